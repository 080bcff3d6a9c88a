import type { IngestResult } from '../core/types';
import type { Logger } from '../logging';
import type { ActionsRepository, IncomingAction } from '../sync/actions-repository';

export interface GroupCommitOptions {
  actions: Pick<ActionsRepository, 'ingest'>;
  logger?: Logger;
  /** Most actions committed in one transaction. */
  maxGroupSize?: number;
  /** Commits in flight at once (each waits for the disk); arrivals meanwhile form the next group. */
  maxInFlight?: number;
}

export interface GroupCommitStats {
  /** Transactions that committed groups of actions. */
  commits: number;
  /** Actions answered (accepted, duplicate or conflict). */
  ingested: number;
  /** The most actions committed in one transaction so far. */
  largestGroup: number;
}

interface Queued {
  action: IncomingAction;
  resolve: (result: IngestResult) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit: webhooks arriving while a commit waits for the disk share the next
 * transaction (one fsync for all), so durability before the 2xx does not cost throughput.
 * Each caller resolves only after its group committed. When a group fails, each of its
 * actions is tried once on its own, so that one action the database refuses never costs
 * the others their commit.
 */
export class GroupCommit {
  private queue: Queued[] = [];
  private inFlight = 0;
  private scheduled = false;
  private readonly maxGroupSize: number;
  private readonly maxInFlight: number;
  private readonly counters: GroupCommitStats = { commits: 0, ingested: 0, largestGroup: 0 };
  private readonly settled = new Set<Promise<void>>();

  constructor(private readonly options: GroupCommitOptions) {
    this.maxGroupSize = Math.max(1, options.maxGroupSize ?? 512);
    this.maxInFlight = Math.max(1, options.maxInFlight ?? 2);
  }

  ingest(action: IncomingAction): Promise<IngestResult> {
    return new Promise<IngestResult>((resolve, reject) => {
      this.queue.push({ action, resolve, reject });
      this.schedule();
    });
  }

  stats(): GroupCommitStats {
    return { ...this.counters };
  }

  /** Waits for every commit in flight and queued (before the store closes). */
  async drain(): Promise<void> {
    while (this.queue.length > 0 || this.settled.size > 0) {
      this.flush();
      await Promise.all([...this.settled]);
    }
  }

  private schedule(): void {
    if (this.queue.length >= this.maxGroupSize) {
      this.flush();
      return;
    }
    if (this.scheduled) return;
    this.scheduled = true;
    // Let the requests that arrived in this turn of the event loop join the group.
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    while (this.queue.length > 0 && this.inFlight < this.maxInFlight) {
      const group = this.queue.splice(0, this.maxGroupSize);
      this.inFlight += 1;
      const done = this.commit(group).finally(() => {
        this.inFlight -= 1;
        this.settled.delete(done);
        if (this.queue.length > 0) this.flush();
      });
      this.settled.add(done);
    }
  }

  private async commit(group: Queued[]): Promise<void> {
    let results: IngestResult[];
    try {
      results = await this.options.actions.ingest(group.map((queued) => queued.action));
    } catch (error) {
      if (group.length === 1) {
        (group[0] as Queued).reject(error);
        return;
      }
      this.options.logger?.warn(
        { err: error, groupSize: group.length },
        'store: a group commit failed; committing its actions one by one',
      );
      await Promise.all(group.map((queued) => this.commit([queued])));
      return;
    }
    this.counters.commits += 1;
    this.counters.ingested += group.length;
    this.counters.largestGroup = Math.max(this.counters.largestGroup, group.length);
    group.forEach((queued, index) => queued.resolve(results[index] as IngestResult));
  }
}
