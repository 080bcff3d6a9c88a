import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import {
  type ActionsQuery,
  type ActionView,
  AdminApiError,
  AdminClient,
  type AuthorizeLinkRequest,
  type HealthView,
  type LinkView,
  transportReason,
} from './admin/client';
import { ACTION_REASONS, ACTION_STATES } from './admin/schemas';
import type { ActionReason, ActionState, LinkTarget, SfEnvironment } from './core/types';
import { checkWebhookSecret, signWebhook } from './intake/signature';

/**
 * relation-bridge CLI: talks to a running bridge through its admin API (and, for
 * `webhook send`, its webhook intake). Exit codes: 0 done, 1 the bridge refused or failed,
 * 2 the command line is wrong.
 */

const USAGE = `Usage: relation-bridge <command> [options]

Commands:
  links create --inbox <id> [--inbox-name <name>] --env production|sandbox|custom
               [--my-domain <domain>] --target contact|lead|contact_then_lead [--owner <005…>]
               [--no-wait] [--timeout <seconds>]
                   Prints the Salesforce authorisation URL to open in a browser, then waits
                   until the link for the inbox exists and prints it.
  links list [--include-deleted]
  links show <linkId>
  links update <linkId> [--target contact|lead|contact_then_lead] [--owner <005…>]
  links delete <linkId>
  links reauth <linkId>
  health <inboxId>
  actions list [--inbox <id>] [--state <state,…>] [--reason <reason,…>] [--since <ISO time>] [--limit <n>]
  actions show <actionId>
  actions retry <actionId…>
  webhook send --secret whsec_… --file payload.json [--id <webhook-id>]
                   Signs the file's bytes as a Standard Webhook and posts them to /webhooks/relation.
  users create-owner --email <email> --name <name> [--password-stdin]
                   The first-run step: creates a console owner. Without --password-stdin a
                   password is generated and printed once; sign in at <url>/console.

Options for every command:
  --url <url>      the bridge's base URL (default: $BRIDGE_URL, else http://127.0.0.1:8080)
  --token <token>  the admin token (default: $BRIDGE_ADMIN_TOKEN)
  --json           machine-readable output
  -h, --help       this text
`;

const OPTIONS = {
  url: { type: 'string' },
  token: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  inbox: { type: 'string' },
  'inbox-name': { type: 'string' },
  env: { type: 'string' },
  'my-domain': { type: 'string' },
  target: { type: 'string' },
  owner: { type: 'string' },
  'no-wait': { type: 'boolean' },
  timeout: { type: 'string' },
  'include-deleted': { type: 'boolean' },
  state: { type: 'string' },
  reason: { type: 'string' },
  since: { type: 'string' },
  limit: { type: 'string' },
  secret: { type: 'string' },
  file: { type: 'string' },
  id: { type: 'string' },
  email: { type: 'string' },
  name: { type: 'string' },
  'password-stdin': { type: 'boolean' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];
type OptionName = keyof typeof OPTIONS;

const COMMON: OptionName[] = ['url', 'token', 'json', 'help'];
const LINK_TARGETS: readonly LinkTarget[] = ['contact', 'lead', 'contact_then_lead'];
const ENVIRONMENTS: readonly SfEnvironment[] = ['production', 'sandbox', 'custom'];
const DEFAULT_URL = 'http://127.0.0.1:8080';

class UsageError extends Error {}

/**
 * What a wrong command line gets: the error first, then only the usage of the command it
 * was for (not the whole text, which would bury the error), and where the rest is.
 */
function usageError(message: string, command: string | undefined): string {
  const own: string[] = [];
  let taking = false;
  for (const line of USAGE.split('\n')) {
    if (/^ {2}\S/.test(line))
      taking = command !== undefined && (line === `  ${command}` || line.startsWith(`  ${command} `));
    else if (!/^ {3,}\S/.test(line)) taking = false;
    if (taking) own.push(line);
  }
  return [
    `Error: ${message}`,
    ...(own.length > 0 ? ['', 'Usage:', ...own] : []),
    '',
    'Run relation-bridge --help for every command and option.',
  ].join('\n');
}

interface Output {
  json: boolean;
  out: (line: string) => void;
  err: (line: string) => void;
  /** Everything on standard input (for --password-stdin). */
  readInput?: () => Promise<string>;
}

/** The only place the CLI reads its environment: where the bridge is and its admin token. */
function connectionFromEnvironment(values: Values, env: NodeJS.ProcessEnv): { url: string; token: string | undefined } {
  return {
    url: values.url ?? env.BRIDGE_URL ?? DEFAULT_URL,
    token: values.token ?? env.BRIDGE_ADMIN_TOKEN,
  };
}

function allowOnly(values: Values, allowed: OptionName[], command: string): void {
  const permitted = new Set<string>([...COMMON, ...allowed]);
  const extra = Object.keys(values).filter((name) => !permitted.has(name));
  if (extra.length > 0) throw new UsageError(`${command} does not take ${extra.map((name) => `--${name}`).join(', ')}`);
}

function required(values: Values, name: OptionName): string {
  const value = values[name];
  if (typeof value !== 'string' || value.trim() === '') throw new UsageError(`--${name} is required`);
  return value;
}

function oneOf<T extends string>(name: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value))
    throw new UsageError(`--${name} must be one of ${allowed.join(', ')}`);
  return value as T;
}

function listOf<T extends string>(name: string, value: string | undefined, allowed: readonly T[]): T[] | undefined {
  if (value === undefined) return undefined;
  return value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean)
    .map((item) => oneOf(name, item, allowed));
}

function positiveInteger(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed) || parsed < 1) throw new UsageError(`--${name} must be a positive whole number`);
  return parsed;
}

function onePositional(positionals: string[], what: string): string {
  if (positionals.length !== 1) throw new UsageError(`give exactly one ${what}`);
  return positionals[0] as string;
}

/** Width on a terminal: CJK and full-width characters take two columns. */
function displayWidth(text: string): number {
  let width = 0;
  for (const char of text) {
    const code = char.codePointAt(0) as number;
    const wide =
      (code >= 0x1100 && code <= 0x115f) ||
      (code >= 0x2e80 && code <= 0xa4cf) ||
      (code >= 0xac00 && code <= 0xd7a3) ||
      (code >= 0xf900 && code <= 0xfaff) ||
      (code >= 0xfe30 && code <= 0xfe4f) ||
      (code >= 0xff00 && code <= 0xff60) ||
      (code >= 0xffe0 && code <= 0xffe6) ||
      (code >= 0x1f300 && code <= 0x1faff) ||
      (code >= 0x20000 && code <= 0x3fffd);
    width += wide ? 2 : 1;
  }
  return width;
}

function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((header, column) =>
    Math.max(displayWidth(header), ...rows.map((row) => displayWidth(row[column] ?? ''))),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, column) =>
        column === cells.length - 1 ? cell : cell + ' '.repeat((widths[column] as number) - displayWidth(cell)),
      )
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

function inboxLabel(inboxId: string, inboxName: string | null): string {
  return inboxName ? `${inboxId} (${inboxName})` : inboxId;
}

function describeLink(link: LinkView): string {
  const rows: Array<[string, string]> = [
    ['Link', link.id],
    ['Inbox', inboxLabel(link.inboxId, link.inboxName)],
    ['Status', link.statusReason ? `${link.status} (${link.statusReason})` : link.status],
    ['Org', link.orgId],
    ['Instance', link.instanceUrl],
    ['Environment', link.environment],
    ['Authorised by', `${link.authorizedUser.username} (${link.authorizedUser.id})`],
    ['Target', link.target],
    ['Default owner', link.defaultOwnerId],
    ['Created', link.createdAt],
  ];
  if (link.deletedAt !== null) rows.push(['Deleted', link.deletedAt]);
  const width = Math.max(...rows.map(([label]) => label.length));
  return rows.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join('\n');
}

function describeHealth(health: HealthView): string {
  const lines: string[] = [];
  const link = health.link;
  lines.push(`Inbox ${link ? inboxLabel(link.inboxId, link.inboxName) : health.inboxId}: ${health.status}`);
  if (link !== null) {
    lines.push(
      `  Link ${link.id} → org ${link.orgId} (${link.environment}, ${link.instanceUrl}), target ${link.target}`,
    );
  }
  lines.push(`  Last sync: ${health.lastSyncAt ?? 'never'}`);
  const counts = Object.entries(health.counts)
    .filter(([, count]) => count > 0)
    .map(([state, count]) => `${state} ${count}`);
  lines.push(`  Last 24 h: ${counts.length > 0 ? counts.join(', ') : 'no actions'}`);
  if (health.org !== null) {
    const usage = health.org.apiUsage;
    const orgUsage = usage
      ? `org-wide ${usage.used}/${usage.max} (as of ${usage.seenAt})`
      : 'org-wide usage not seen yet';
    lines.push(`  API: ${orgUsage}; this bridge ${health.org.bridgeApiCallsLast24h} call(s) in 24 h`);
    if (health.org.pausedUntil !== null)
      lines.push(`  Paused until ${health.org.pausedUntil}: ${health.org.pauseReason ?? ''}`);
  }
  if (health.problems.length > 0) {
    lines.push('  Problems:');
    for (const problem of health.problems) lines.push(`    - ${problem.message}`);
  }
  return lines.join('\n');
}

function actionDetail(action: ActionView): string {
  if (action.error !== null) return `${action.error.code ?? ''} ${action.error.message ?? ''}`.trim();
  if (action.sfEventId !== null) return `Event ${action.sfEventId}`;
  return '';
}

function describeAction(action: ActionView): string {
  const rows: Array<[string, string]> = [
    ['Action', action.actionId],
    ['State', action.reason ? `${action.state} (${action.reason})` : action.state],
    ['Inbox', inboxLabel(action.inboxId, action.inboxName)],
    ['Kind', `${action.kind} / ${action.channel} / ${action.direction}`],
    ['Occurred', action.occurredAt ?? ''],
    ['Ticket', `${action.ticket.id} ${action.ticket.url}`],
    [
      'Customer',
      [action.customer.name, ...action.customer.emails, ...action.customer.phones].filter(Boolean).join(', '),
    ],
    ['Attempts', String(action.attempts)],
  ];
  if (action.error !== null) rows.push(['Error', actionDetail(action)]);
  if (action.sfEventId !== null) rows.push(['Event', action.sfEventId]);
  if (action.whoId !== null) rows.push(['Who', action.whoId]);
  if (action.match !== null) {
    const chosen = action.match.chosen ? `${action.match.chosen.object} ${action.match.chosen.id}` : 'none';
    rows.push(['Match', `${chosen} by ${action.match.rule}, ${action.match.candidates.length} candidate(s)`]);
  }
  const width = Math.max(...rows.map(([label]) => label.length));
  return rows.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join('\n');
}

async function waitForLink(
  client: AdminClient,
  inboxId: string,
  timeoutMs: number,
  pollMs: number,
): Promise<LinkView | null> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [link] = await client.listLinks({ inboxId });
    if (link !== undefined) return link;
    if (Date.now() + pollMs > deadline) return null;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

function print(output: Output, json: unknown, text: string): void {
  output.out(output.json ? JSON.stringify(json, null, 2) : text);
}

function clientFor(values: Values, env: NodeJS.ProcessEnv): AdminClient {
  const { url, token } = connectionFromEnvironment(values, env);
  if (token === undefined || token === '')
    throw new UsageError('the admin token is missing: pass --token or set BRIDGE_ADMIN_TOKEN');
  return new AdminClient({ baseUrl: url, token });
}

async function linksCommand(
  sub: string | undefined,
  positionals: string[],
  values: Values,
  env: NodeJS.ProcessEnv,
  output: Output,
): Promise<number> {
  switch (sub) {
    case 'create': {
      allowOnly(
        values,
        ['inbox', 'inbox-name', 'env', 'my-domain', 'target', 'owner', 'no-wait', 'timeout'],
        'links create',
      );
      if (positionals.length > 0) throw new UsageError('links create takes no positional arguments');
      const request: AuthorizeLinkRequest = {
        inboxId: required(values, 'inbox'),
        environment: oneOf('env', required(values, 'env'), ENVIRONMENTS),
        target: oneOf('target', required(values, 'target'), LINK_TARGETS),
        ...(values['inbox-name'] === undefined ? {} : { inboxName: values['inbox-name'] }),
        ...(values['my-domain'] === undefined ? {} : { myDomain: values['my-domain'] }),
        ...(values.owner === undefined ? {} : { defaultOwnerId: values.owner }),
      };
      const timeoutSeconds = positiveInteger('timeout', values.timeout) ?? 600;
      const client = clientFor(values, env);
      const started = await client.authorizeLink(request);
      if (values['no-wait']) {
        print(
          output,
          started,
          `Open this URL in a browser, sign in to Salesforce and allow access (valid until ${started.expiresAt}):\n${started.authorizeUrl}`,
        );
        return 0;
      }
      const announce = output.json ? output.err : output.out;
      announce('Open this URL in a browser, sign in to Salesforce and allow access:');
      announce(started.authorizeUrl);
      announce(`Waiting for the link of inbox ${request.inboxId} (until ${started.expiresAt})…`);
      const link = await waitForLink(
        client,
        request.inboxId,
        Math.min(timeoutSeconds * 1000, Date.parse(started.expiresAt) - Date.now()),
        2000,
      );
      if (link === null) {
        output.err('No link appeared before the authorisation expired. Run the command again.');
        return 1;
      }
      print(output, link, `The link is ready.\n${describeLink(link)}`);
      return 0;
    }
    case 'list': {
      allowOnly(values, ['include-deleted'], 'links list');
      const links = await clientFor(values, env).listLinks({ includeDeleted: values['include-deleted'] === true });
      const text =
        links.length === 0
          ? 'No links.'
          : table(
              ['ID', 'INBOX', 'STATUS', 'TARGET', 'ORG', 'USER', 'CREATED'],
              links.map((link) => [
                link.id,
                inboxLabel(link.inboxId, link.inboxName),
                link.status,
                link.target,
                link.orgId,
                link.authorizedUser.username,
                link.createdAt,
              ]),
            );
      print(output, { links }, text);
      return 0;
    }
    case 'show': {
      allowOnly(values, [], 'links show');
      const link = await clientFor(values, env).getLink(onePositional(positionals, 'link id'));
      print(output, link, describeLink(link));
      return 0;
    }
    case 'update': {
      allowOnly(values, ['target', 'owner'], 'links update');
      const id = onePositional(positionals, 'link id');
      if (values.target === undefined && values.owner === undefined)
        throw new UsageError('give --target, --owner or both');
      const link = await clientFor(values, env).updateLink(id, {
        ...(values.target === undefined ? {} : { target: oneOf('target', values.target, LINK_TARGETS) }),
        ...(values.owner === undefined ? {} : { defaultOwnerId: values.owner }),
      });
      print(output, link, `The link is updated.\n${describeLink(link)}`);
      return 0;
    }
    case 'delete': {
      allowOnly(values, [], 'links delete');
      const result = await clientFor(values, env).deleteLink(onePositional(positionals, 'link id'));
      print(output, result, result.message);
      return 0;
    }
    case 'reauth': {
      allowOnly(values, [], 'links reauth');
      const started = await clientFor(values, env).reauthorizeLink(onePositional(positionals, 'link id'));
      print(
        output,
        started,
        `Open this URL in a browser and sign in as the user who authorised the link (valid until ${started.expiresAt}):\n${started.authorizeUrl}`,
      );
      return 0;
    }
    default:
      throw new UsageError(`unknown links command "${sub ?? ''}"`);
  }
}

async function actionsCommand(
  sub: string | undefined,
  positionals: string[],
  values: Values,
  env: NodeJS.ProcessEnv,
  output: Output,
): Promise<number> {
  switch (sub) {
    case 'list': {
      allowOnly(values, ['inbox', 'state', 'reason', 'since', 'limit'], 'actions list');
      const query: ActionsQuery = {};
      if (values.inbox !== undefined) query.inboxId = values.inbox;
      const states = listOf<ActionState>('state', values.state, ACTION_STATES);
      if (states !== undefined) query.state = states;
      const reasons = listOf<ActionReason>('reason', values.reason, ACTION_REASONS);
      if (reasons !== undefined) query.reason = reasons;
      if (values.since !== undefined) query.since = values.since;
      const limit = positiveInteger('limit', values.limit);
      if (limit !== undefined) query.limit = limit;
      const page = await clientFor(values, env).listActions(query);
      const text =
        page.actions.length === 0
          ? 'No actions.'
          : table(
              ['OCCURRED', 'ACTION', 'INBOX', 'CHANNEL', 'KIND', 'STATE', 'REASON', 'DETAIL'],
              page.actions.map((action) => [
                action.occurredAt ?? '',
                action.actionId,
                action.inboxId,
                action.channel,
                action.kind,
                action.state,
                action.reason ?? '',
                actionDetail(action),
              ]),
            ) + (page.nextCursor === null ? '' : '\n(more: narrow the filters or raise --limit)');
      print(output, page, text);
      return 0;
    }
    case 'show': {
      allowOnly(values, [], 'actions show');
      const action = await clientFor(values, env).getAction(onePositional(positionals, 'action id'));
      print(output, action, describeAction(action));
      return 0;
    }
    case 'retry': {
      allowOnly(values, [], 'actions retry');
      if (positionals.length === 0) throw new UsageError('give at least one action id');
      const result = await clientFor(values, env).retryActions(positionals);
      const skipped = Object.entries(result.skipped).map(([reason, count]) => `${count} skipped (${reason})`);
      const held = Object.entries(result.held).map(([reason, count]) => `${count} waiting (${reason})`);
      print(
        output,
        result,
        [
          `${result.retried} of ${positionals.length} action(s) retried: ${result.willSync} will sync`,
          ...skipped,
          ...held,
          ...(result.waitingForLink > 0 ? [`${result.waitingForLink} waiting for the inbox's next link`] : []),
          ...(result.notRetryable > 0 ? [`${result.notRetryable} not retryable`] : []),
        ].join('; ') + '.',
      );
      return 0;
    }
    default:
      throw new UsageError(`unknown actions command "${sub ?? ''}"`);
  }
}

function webhookUrl(base: string): string {
  const url = new URL(base);
  if (url.pathname === '/' || url.pathname === '') url.pathname = '/webhooks/relation';
  return url.toString();
}

async function webhookSend(
  positionals: string[],
  values: Values,
  env: NodeJS.ProcessEnv,
  output: Output,
): Promise<number> {
  allowOnly(values, ['secret', 'file', 'id'], 'webhook send');
  if (positionals.length > 0) throw new UsageError('webhook send takes no positional arguments');
  const secret = required(values, 'secret');
  const check = checkWebhookSecret(secret);
  if (!check.ok) throw new UsageError(`--secret ${check.message}`);
  const body = await readFile(required(values, 'file'));
  const id = values.id ?? `msg_${randomBytes(12).toString('hex')}`;
  const headers = signWebhook({ id, timestamp: Math.floor(Date.now() / 1000), body, secret });
  const target = webhookUrl(connectionFromEnvironment(values, env).url);
  let response: Response;
  try {
    response = await fetch(target, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
      signal: AbortSignal.timeout(30_000),
    });
  } catch (error) {
    throw new AdminApiError(0, 'unreachable', `Could not reach ${target}: ${transportReason(error)}`);
  }
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: shown as it is
  }
  print(output, { status: response.status, webhookId: id, body: parsed }, `${response.status} ${text}`);
  return response.ok ? 0 : 1;
}

async function usersCommand(
  sub: string | undefined,
  positionals: string[],
  values: Values,
  env: NodeJS.ProcessEnv,
  output: Output,
): Promise<number> {
  if (sub !== 'create-owner') throw new UsageError(`unknown users command "${sub ?? ''}"`);
  allowOnly(values, ['email', 'name', 'password-stdin'], 'users create-owner');
  if (positionals.length > 0) throw new UsageError('users create-owner takes no positional arguments');
  const email = required(values, 'email');
  const name = required(values, 'name');
  let password: string | undefined;
  if (values['password-stdin'] === true) {
    if (output.readInput === undefined) throw new UsageError('--password-stdin needs a standard input');
    password = (await output.readInput()).replace(/\r?\n$/, '');
  }
  const client = clientFor(values, env);
  const created = await client.createUser({
    email,
    name,
    isOwner: true,
    ...(password === undefined ? {} : { password }),
  });
  const { url } = connectionFromEnvironment(values, env);
  const lines = [
    `Owner ${created.user.email} (${created.user.name}) created.`,
    `Sign in at ${url.replace(/\/+$/, '')}/console`,
  ];
  if (created.generatedPassword !== null) {
    lines.push(`Password (shown once; change it in the console under Account): ${created.generatedPassword}`);
  }
  print(output, created, lines.join('\n'));
  return 0;
}

export async function runCli(argv: string[], env: NodeJS.ProcessEnv, output: Output): Promise<number> {
  let values: Values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true }));
  } catch (error) {
    const command = argv.find((arg) => !arg.startsWith('-'));
    output.err(usageError(error instanceof Error ? error.message : String(error), command));
    return 2;
  }
  output.json = values.json === true;
  const [command, sub, ...rest] = positionals;
  if (values.help || command === 'help') {
    output.out(USAGE);
    return 0;
  }
  if (command === undefined) {
    output.err(USAGE);
    return 2;
  }
  try {
    switch (command) {
      case 'links':
        return await linksCommand(sub, rest, values, env, output);
      case 'actions':
        return await actionsCommand(sub, rest, values, env, output);
      case 'health':
        allowOnly(values, [], 'health');
        if (sub === undefined || rest.length > 0) throw new UsageError('give exactly one inbox id');
        {
          const health = await clientFor(values, env).inboxHealth(sub);
          print(output, health, describeHealth(health));
        }
        return 0;
      case 'webhook':
        if (sub !== 'send') throw new UsageError(`unknown webhook command "${sub ?? ''}"`);
        return await webhookSend(rest, values, env, output);
      case 'users':
        return await usersCommand(sub, rest, values, env, output);
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      output.err(usageError(error.message, command));
      return 2;
    }
    if (error instanceof AdminApiError) {
      if (output.json)
        output.out(JSON.stringify({ error: error.code, message: error.message, details: error.details }, null, 2));
      output.err(`Error (${error.code}${error.status > 0 ? `, HTTP ${error.status}` : ''}): ${error.message}`);
      if (!output.json && Array.isArray(error.details)) {
        for (const detail of error.details as Array<{ path?: unknown; message?: unknown }>) {
          output.err(`  ${String(detail.path ?? '')}: ${String(detail.message ?? '')}`);
        }
      }
      return 1;
    }
    output.err(`Error: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

/** Runs the CLI on this process's arguments and sets its exit code. */
export async function main(): Promise<void> {
  const output: Output = {
    json: false,
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    readInput: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    },
  };
  process.exitCode = await runCli(process.argv.slice(2), process.env, output);
}

if (require.main === module) void main();
