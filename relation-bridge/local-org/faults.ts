import { randomBytes } from 'node:crypto';

/**
 * Fault injection for tests and the demo. Request faults match on the request path (a
 * substring, or a RegExp), optionally the method and the org, and apply to the next
 * `count` matching requests (default 1; Infinity for "until removed").
 */

export interface RequestMatch {
  /** Substring of the request path (e.g. `/composite`) or a RegExp over it. */
  path?: string | RegExp;
  method?: string;
  orgId?: string;
  /** How many matching requests the fault applies to; default 1. */
  count?: number;
}

export interface RequestInfo {
  method: string;
  path: string;
  orgId: string | null;
}

export interface CannedResponse {
  status: number;
  body: unknown;
  headers: Record<string, string>;
}

export interface CommittedRecord {
  id: string;
  type: string;
}

/** A write the org has committed; emitted before the response leaves. */
export interface CommitEvent {
  seq: number;
  orgId: string;
  method: string;
  path: string;
  records: CommittedRecord[];
  at: number;
}

export interface FaultHandle {
  readonly id: string;
  /** Matching requests (or records) still to be affected. */
  remaining(): number;
  remove(): void;
}

export interface HangHandle extends FaultHandle {
  /** Requests currently hanging on this fault. */
  hanging(): number;
  /** Resolves once a request is hanging here. */
  waitForHang(): Promise<void>;
  /** Lets the hanging requests proceed as normal; later matches are not held. */
  release(): void;
}

export interface HoldHandle extends FaultHandle {
  /** Resolves with the first commit whose response is being held. */
  waitForHold(): Promise<CommitEvent>;
  held(): number;
  /** Sends the held responses. */
  release(): void;
}

type Gate = (proceed: boolean) => void;

interface BaseRule {
  id: string;
  match: RequestMatch;
  left: number;
}

interface FailRule extends BaseRule {
  kind: 'fail';
  response: CannedResponse;
}

interface LatencyRule extends BaseRule {
  kind: 'latency';
  ms: number;
}

interface HangRule extends BaseRule {
  kind: 'hang';
  gates: Set<Gate>;
  waiters: Array<() => void>;
  released: boolean;
}

interface HoldRule extends BaseRule {
  kind: 'hold';
  gates: Set<Gate>;
  waiters: Array<(event: CommitEvent) => void>;
  released: boolean;
}

interface LockRecordsRule extends BaseRule {
  kind: 'lockRecords';
  objectType: string | null;
}

type Rule = FailRule | LatencyRule | HangRule | HoldRule | LockRecordsRule;

export interface FaultSummary {
  id: string;
  kind: Rule['kind'];
  remaining: number;
  path: string | null;
  method: string | null;
  orgId: string | null;
  waiting: number;
}

function matchesRequest(match: RequestMatch, info: RequestInfo): boolean {
  if (match.method !== undefined && match.method.toUpperCase() !== info.method) return false;
  if (match.orgId !== undefined && match.orgId !== info.orgId) return false;
  if (match.path === undefined) return true;
  return typeof match.path === 'string' ? info.path.includes(match.path) : match.path.test(info.path);
}

export class FaultInjector {
  private rules: Rule[] = [];
  private readonly timers = new Map<NodeJS.Timeout, Gate>();
  private closed = false;

  /** The next matching requests answer with this status and body instead of being handled. */
  failNext(options: RequestMatch & { status: number; body?: unknown; headers?: Record<string, string> }): FaultHandle {
    return this.add({
      kind: 'fail',
      ...this.base(options),
      response: { status: options.status, body: options.body ?? '', headers: options.headers ?? {} },
    });
  }

  /** 500 UNKNOWN_EXCEPTION or 503 SERVER_UNAVAILABLE, as Salesforce sends them. */
  serverError(options: RequestMatch & { status?: 500 | 502 | 503 } = {}): FaultHandle {
    const status = options.status ?? 503;
    const body =
      status === 500
        ? [
            {
              errorCode: 'UNKNOWN_EXCEPTION',
              message:
                'An unexpected error occurred. Please include this ErrorId if you contact support: 1234567890-12345 (-1234567890)',
            },
          ]
        : [{ errorCode: 'SERVER_UNAVAILABLE', message: 'Server temporarily unavailable. Please try again later.' }];
    return this.failNext({ ...options, status, body });
  }

  /** Whole requests fail with UNABLE_TO_LOCK_ROW (400). */
  lockRequests(options: RequestMatch = {}): FaultHandle {
    return this.failNext({
      ...options,
      status: 400,
      body: [
        { errorCode: 'UNABLE_TO_LOCK_ROW', message: 'unable to obtain exclusive access to this record or 1 records' },
      ],
    });
  }

  /** The next matching requests wait (unanswered) until released or the server closes. */
  hangNext(options: RequestMatch = {}): HangHandle {
    const rule: HangRule = { kind: 'hang', ...this.base(options), gates: new Set(), waiters: [], released: false };
    this.add(rule);
    return {
      ...this.handle(rule),
      hanging: () => rule.gates.size,
      waitForHang: () =>
        rule.gates.size > 0 ? Promise.resolve() : new Promise<void>((resolve) => rule.waiters.push(resolve)),
      release: () => this.openGates(rule),
    };
  }

  /** Delays matching requests; `count` defaults to every request until removed. */
  addLatency(options: RequestMatch & { ms: number }): FaultHandle {
    return this.add({ kind: 'latency', ...this.base({ count: Infinity, ...options }), ms: options.ms });
  }

  /** The next `count` records written through collections or composite fail with UNABLE_TO_LOCK_ROW. */
  lockRecords(options: { count?: number; objectType?: string; orgId?: string } = {}): FaultHandle {
    return this.add({
      kind: 'lockRecords',
      id: newFaultId(),
      match: { ...(options.orgId === undefined ? {} : { orgId: options.orgId }) },
      left: options.count ?? 1,
      objectType: options.objectType ?? null,
    });
  }

  /**
   * The responses to the next matching writes are held after the org has committed them,
   * until released: the moment to kill a client that has not yet learned the outcome.
   */
  holdAfterCommit(options: RequestMatch = {}): HoldHandle {
    const rule: HoldRule = { kind: 'hold', ...this.base(options), gates: new Set(), waiters: [], released: false };
    this.add(rule);
    return {
      ...this.handle(rule),
      held: () => rule.gates.size,
      waitForHold: () => new Promise<CommitEvent>((resolve) => rule.waiters.push(resolve)),
      release: () => this.openGates(rule),
    };
  }

  /** Removes every fault and lets waiting requests proceed. */
  clear(): void {
    for (const rule of [...this.rules]) this.remove(rule.id);
  }

  remove(id: string): boolean {
    const rule = this.rules.find((candidate) => candidate.id === id);
    if (rule === undefined) return false;
    this.rules = this.rules.filter((candidate) => candidate !== rule);
    if (rule.kind === 'hang' || rule.kind === 'hold') this.openGates(rule);
    return true;
  }

  /** Releases a hang or hold fault by id. */
  release(id: string): boolean {
    const rule = this.rules.find((candidate) => candidate.id === id);
    if (rule === undefined || (rule.kind !== 'hang' && rule.kind !== 'hold')) return false;
    this.openGates(rule);
    return true;
  }

  list(): FaultSummary[] {
    return this.rules.map((rule) => ({
      id: rule.id,
      kind: rule.kind,
      remaining: rule.left,
      path: rule.match.path === undefined ? null : String(rule.match.path),
      method: rule.match.method ?? null,
      orgId: rule.match.orgId ?? null,
      waiting: rule.kind === 'hang' || rule.kind === 'hold' ? rule.gates.size : 0,
    }));
  }

  /**
   * Applies latency, hangs and canned failures to an incoming request. Resolves with a
   * canned response, `null` to handle the request normally, or `'closed'` when the
   * server closed meanwhile.
   */
  async beforeRequest(info: RequestInfo): Promise<CannedResponse | null | 'closed'> {
    for (const rule of this.take(info, 'latency')) {
      if (!(await this.sleep(rule.ms))) return 'closed';
    }
    for (const rule of this.take(info, 'hang')) {
      if (!(await this.wait(rule))) return 'closed';
    }
    const [fail] = this.take(info, 'fail');
    if (fail !== undefined) return fail.response;
    return this.closed ? 'closed' : null;
  }

  /**
   * A composite subrequest is a request too: a `fail` fault that matches its path answers
   * it (latency and hangs apply to whole HTTP requests only).
   */
  subrequestFailure(info: RequestInfo): CannedResponse | null {
    const [fail] = this.take(info, 'fail');
    return fail?.response ?? null;
  }

  /** True when this record must fail with UNABLE_TO_LOCK_ROW. */
  takeRecordLock(orgId: string, objectType: string): boolean {
    const rule = this.rules.find(
      (candidate): candidate is LockRecordsRule =>
        candidate.kind === 'lockRecords' &&
        candidate.left > 0 &&
        (candidate.match.orgId === undefined || candidate.match.orgId === orgId) &&
        (candidate.objectType === null || candidate.objectType.toLowerCase() === objectType.toLowerCase()),
    );
    if (rule === undefined) return false;
    this.consume(rule);
    return true;
  }

  /** Holds a committed write's response when a hold fault matches. Resolves false when closed. */
  async afterCommit(info: RequestInfo, event: CommitEvent): Promise<boolean> {
    const [rule] = this.take(info, 'hold');
    if (rule === undefined) return !this.closed;
    const proceed = new Promise<boolean>((resolve) => {
      if (rule.released || this.closed) resolve(!this.closed);
      else rule.gates.add(resolve);
    });
    for (const waiter of rule.waiters.splice(0)) waiter(event);
    return proceed;
  }

  /** Ends every wait: hanging and held requests give up (their sockets are destroyed). */
  close(): void {
    this.closed = true;
    for (const [timer, gate] of this.timers) {
      clearTimeout(timer);
      gate(false);
    }
    this.timers.clear();
    for (const rule of this.rules) {
      if (rule.kind === 'hang' || rule.kind === 'hold') {
        for (const gate of rule.gates) gate(false);
        rule.gates.clear();
      }
    }
  }

  private base(options: RequestMatch): BaseRule {
    const { count, ...match } = options;
    return { id: newFaultId(), match, left: count ?? 1 };
  }

  private add<T extends Rule>(rule: T): FaultHandle {
    this.rules.push(rule);
    return this.handle(rule);
  }

  private handle(rule: Rule): FaultHandle {
    return { id: rule.id, remaining: () => rule.left, remove: () => void this.remove(rule.id) };
  }

  private take<K extends Rule['kind']>(info: RequestInfo, kind: K): Array<Extract<Rule, { kind: K }>> {
    const taken = this.rules.filter(
      (rule): rule is Extract<Rule, { kind: K }> =>
        rule.kind === kind && rule.left > 0 && matchesRequest(rule.match, info),
    );
    for (const rule of taken) this.consume(rule);
    return taken;
  }

  /** Spent rules leave the list, except hangs and holds that still have requests waiting. */
  private consume(rule: Rule): void {
    rule.left -= 1;
    if (rule.left <= 0 && rule.kind !== 'hang' && rule.kind !== 'hold') {
      this.rules = this.rules.filter((candidate) => candidate !== rule);
    }
  }

  private wait(rule: HangRule): Promise<boolean> {
    if (rule.released || this.closed) return Promise.resolve(!this.closed);
    return new Promise<boolean>((resolve) => {
      rule.gates.add(resolve);
      for (const waiter of rule.waiters.splice(0)) waiter();
    });
  }

  private openGates(rule: HangRule | HoldRule): void {
    rule.released = true;
    for (const gate of rule.gates) gate(true);
    rule.gates.clear();
    if (rule.left <= 0) this.rules = this.rules.filter((candidate) => candidate !== rule);
  }

  private sleep(ms: number): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve(true);
      }, ms);
      this.timers.set(timer, resolve);
    });
  }
}

function newFaultId(): string {
  return `flt_${randomBytes(6).toString('hex')}`;
}
