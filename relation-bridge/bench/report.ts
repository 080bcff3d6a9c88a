/** The benchmark's results as docs/performance.md and an SVG plot of latency against load. */

export interface LatencyRow {
  system: string;
  load: string;
  /** Requests per second offered (null: saturation, a closed loop). */
  offered: number | null;
  sent: number;
  accepted: number;
  errors: number;
  perSecond: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  peakRssMb: number | null;
  /** Bridge: Events the engine wrote to Salesforce while the phase ran (the backlog draining). */
  syncedMeanwhile: number | null;
  /** Bridge: actions taken so far and not yet written to Salesforce when the phase ended. */
  backlogLeft: number | null;
}

export interface SyncRow {
  ratePerOrg: number;
  actions: number;
  apiCalls: number;
  callsPerAction: number;
  freshnessP50Ms: number;
  freshnessP95Ms: number;
}

export interface BenchResults {
  generatedAt: string;
  command: string;
  machine: { cpus: number; cpuModel: string; memoryGb: number; node: string };
  latency: LatencyRow[];
  sync: SyncRow[];
  backlog: {
    actions: number;
    drainMs: number;
    apiCalls: number;
    peakRssMb: number | null;
    ingestPerSecond: number;
  } | null;
  rss: Record<string, number | null>;
}

const TARGETS = {
  ackP99Ms: 50,
  acceptsPerSecond: 3_000,
  baselineRatio: 2,
  freshnessP95Ms: 5_000,
  backlogMs: 10 * 60_000,
  backlogCalls: 1_500,
  rssMb: 300,
};

function table(header: string[], rows: Array<Array<string | number>>): string {
  const cells = rows.map((row) => row.map(String));
  return [
    `| ${header.join(' | ')} |`,
    `| ${header.map((_, index) => (index === 0 ? '---' : '---:')).join(' | ')} |`,
    ...cells.map((row) => `| ${row.join(' | ')} |`),
  ].join('\n');
}

const yes = (met: boolean) => (met ? 'met' : '**not met**');

function targetLines(results: BenchResults): string[] {
  const bridges = [...new Set(results.latency.map((row) => row.system))].filter((system) => system !== 'baseline');
  const baseline = results.latency.find((row) => row.system === 'baseline' && row.offered === null);
  const lines: string[] = [];
  for (const system of bridges) {
    const at1000 = results.latency.find((row) => row.system === system && row.offered === 1_000);
    const saturated = results.latency.find((row) => row.system === system && row.offered === null);
    if (at1000 !== undefined) {
      const draining =
        at1000.syncedMeanwhile === null
          ? ''
          : ` (${at1000.syncedMeanwhile.toLocaleString('en')} Events written during the phase, ${(at1000.backlogLeft ?? 0).toLocaleString('en')} actions still waiting at its end)`;
      lines.push(
        `- ${system}: ack p99 at 1,000/s while draining a backlog${draining}: ${at1000.p99} ms (target ≤ ${TARGETS.ackP99Ms} ms): ${yes(at1000.p99 <= TARGETS.ackP99Ms && at1000.backlogLeft !== 0)}`,
      );
    }
    if (saturated !== undefined) {
      const ratio = baseline === undefined || baseline.perSecond === 0 ? 0 : saturated.perSecond / baseline.perSecond;
      lines.push(
        `- ${system}: ${saturated.perSecond} durable accepts/s at saturation, ${ratio.toFixed(1)}× the baseline (targets ≥ ${TARGETS.acceptsPerSecond.toLocaleString('en')}/s and ≥ ${TARGETS.baselineRatio}×): ${yes(saturated.perSecond >= TARGETS.acceptsPerSecond && ratio >= TARGETS.baselineRatio)}`,
      );
    }
  }
  const freshness = Math.max(0, ...results.sync.map((row) => row.freshnessP95Ms));
  if (results.sync.length > 0) {
    lines.push(
      `- freshness p95, worst of 1, 10 and 100 actions/s: ${(freshness / 1000).toFixed(1)} s (target ≤ 5 s): ${yes(freshness <= TARGETS.freshnessP95Ms)}`,
    );
  }
  if (results.backlog !== null) {
    const { actions, drainMs, apiCalls } = results.backlog;
    lines.push(
      `- a ${actions.toLocaleString('en')}-action backlog drained in ${(drainMs / 60_000).toFixed(1)} min with ${apiCalls.toLocaleString('en')} API calls (targets ≤ 10 min, ≤ 1,500 calls for 100k): ${yes(drainMs <= TARGETS.backlogMs && apiCalls <= TARGETS.backlogCalls * (actions / 100_000))}`,
    );
  }
  const rss = Math.max(
    0,
    ...Object.entries(results.rss)
      .filter(([system]) => system !== 'baseline')
      .map(([, mb]) => mb ?? 0),
  );
  lines.push(`- peak RSS of a bridge process: ${rss} MB (target ≤ ${TARGETS.rssMb} MB): ${yes(rss <= TARGETS.rssMb)}`);
  return lines;
}

function tables(results: BenchResults): string {
  const latency = table(
    [
      'system',
      'load',
      'accepted',
      'errors',
      'accepted/s',
      'p50 ms',
      'p95 ms',
      'p99 ms',
      'max ms',
      'Events written meanwhile',
      'still waiting at the end',
      'peak RSS MB',
    ],
    results.latency.map((row) => [
      row.system,
      row.load,
      row.accepted,
      row.errors,
      row.perSecond,
      row.p50,
      row.p95,
      row.p99,
      row.max,
      row.syncedMeanwhile ?? '–',
      row.backlogLeft ?? '–',
      row.peakRssMb ?? '–',
    ]),
  );
  const sync = table(
    ['actions/s per org', 'actions synced', 'API calls', 'calls per action', 'freshness p50 s', 'freshness p95 s'],
    results.sync.map((row) => [
      row.ratePerOrg,
      row.actions,
      row.apiCalls,
      row.callsPerAction.toFixed(3),
      (row.freshnessP50Ms / 1000).toFixed(2),
      (row.freshnessP95Ms / 1000).toFixed(2),
    ]),
  );
  const backlog =
    results.backlog === null
      ? ''
      : table(
          ['backlog', 'taken during the outage', 'drain time', 'API calls', 'peak RSS MB'],
          [
            [
              results.backlog.actions.toLocaleString('en'),
              `${results.backlog.ingestPerSecond}/s`,
              `${(results.backlog.drainMs / 1000).toFixed(0)} s`,
              results.backlog.apiCalls,
              results.backlog.peakRssMb ?? '–',
            ],
          ],
        );
  return [latency, sync, backlog].filter((part) => part !== '').join('\n\n');
}

/** p99 latency against offered load, one line per system, log scale. */
function svg(results: BenchResults): string {
  const width = 720;
  const height = 400;
  const margin = { left: 70, right: 170, top: 30, bottom: 50 };
  const systems = [...new Set(results.latency.map((row) => row.system))];
  const colors = ['#888888', '#1b6ac9', '#c2410c', '#15803d', '#7c3aed'];
  const points = results.latency.filter((row) => row.offered !== null);
  const maxLatency = Math.max(10, ...points.map((row) => row.p99));
  const yMax = 10 ** Math.ceil(Math.log10(maxLatency));
  const x = (offered: number) => margin.left + ((offered - 0) / 1_000) * (width - margin.left - margin.right);
  const y = (ms: number) =>
    height - margin.bottom - (Math.log10(Math.max(1, ms)) / Math.log10(yMax)) * (height - margin.top - margin.bottom);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${margin.left}" y="18" font-size="14">Webhook ack latency p99 (ms, log scale) against offered load, open loop</text>`,
  ];
  for (let decade = 1; decade <= yMax; decade *= 10) {
    parts.push(
      `<line x1="${margin.left}" x2="${width - margin.right}" y1="${y(decade)}" y2="${y(decade)}" stroke="#e5e5e5"/>`,
      `<text x="${margin.left - 8}" y="${y(decade) + 4}" text-anchor="end">${decade}</text>`,
    );
  }
  for (const offered of [100, 500, 1_000]) {
    parts.push(
      `<text x="${x(offered)}" y="${height - margin.bottom + 18}" text-anchor="middle">${offered}/s</text>`,
      `<line x1="${x(offered)}" x2="${x(offered)}" y1="${height - margin.bottom}" y2="${height - margin.bottom + 5}" stroke="#333"/>`,
    );
  }
  parts.push(
    `<line x1="${margin.left}" x2="${width - margin.right}" y1="${height - margin.bottom}" y2="${height - margin.bottom}" stroke="#333"/>`,
    `<line x1="${margin.left}" x2="${margin.left}" y1="${margin.top}" y2="${height - margin.bottom}" stroke="#333"/>`,
    `<line x1="${margin.left}" x2="${width - margin.right}" y1="${y(TARGETS.ackP99Ms)}" y2="${y(TARGETS.ackP99Ms)}" stroke="#dc2626" stroke-dasharray="4 4"/>`,
    `<text x="${width - margin.right + 6}" y="${y(TARGETS.ackP99Ms) + 4}" fill="#dc2626">target 50 ms</text>`,
  );
  systems.forEach((system, index) => {
    const color = colors[index % colors.length] as string;
    const line = points
      .filter((row) => row.system === system)
      .map((row) => `${x(row.offered as number).toFixed(1)},${y(row.p99).toFixed(1)}`);
    parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${line.join(' ')}"/>`);
    for (const point of line) {
      const [px, py] = point.split(',');
      parts.push(`<circle cx="${px}" cy="${py}" r="3" fill="${color}"/>`);
    }
    const legendY = margin.top + 20 + index * 18;
    parts.push(
      `<line x1="${width - margin.right + 6}" x2="${width - margin.right + 26}" y1="${legendY}" y2="${legendY}" stroke="${color}" stroke-width="2"/>`,
      `<text x="${width - margin.right + 30}" y="${legendY + 4}">${system}</text>`,
    );
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

export function renderReport(results: BenchResults): { markdown: string; svg: string; tables: string } {
  const rendered = tables(results);
  const markdown = [
    '# Performance',
    '',
    `Generated by \`${results.command}\` on ${results.generatedAt.slice(0, 10)}: ${results.machine.cpus} CPUs (${results.machine.cpuModel}), ${results.machine.memoryGb} GB, Node ${results.machine.node}. Rerun that command to regenerate this page, \`performance.json\` and the plot; every number here comes from it. Absolute numbers belong to the machine; the ratios to the baseline, run in the same go, carry over.`,
    '',
    '## How it is measured',
    '',
    '- Every system runs as its own process: the naive **baseline** (Express, the same signature check, one SQLite transaction per request with WAL and `synchronous=FULL`, answering 202 after its commit), the **bridge on SQLite**, and the bridge on **PostgreSQL with 1 and with 3 instances** (one database; the load spread over the instances). The bridge and the baseline run compiled (`tsconfig.bench.json`), as `npm start` runs the bridge. The load generator (`bench/load.ts`) is another process; the local Salesforce org lives in the orchestrator (`bench/run.ts`), on the same cores, where Salesforce would not be.',
    '- Latency is an **open loop**: requests are due at a fixed rate, and each latency counts from when it was due, not from when it was sent, so a stall is charged to every request behind it. **Saturation** is a closed loop of 128 concurrent senders. A 2xx from the bridge means the action is committed (`synchronous=FULL`, or a PostgreSQL commit).',
    '- Before each open-loop phase, a bridge takes a backlog of webhooks for a linked inbox while its requests to Salesforce are held unanswered (not failed: nothing backs off). Salesforce then answers again and the phase runs while the engine drains that backlog and syncs everything arriving, against the local org. The table gives the Events written during each phase and the actions still waiting at its end: a phase with some still waiting was measured with the engine busy throughout. Saturation starts once the backlog is drained, the engine syncing what arrives.',
    '- **Freshness** is the time from a webhook being due to its Event being committed in the org. **API calls** are counted by the org.',
    '- The **backlog** is taken while every Salesforce data request answers 503 (an outage); the clock starts when Salesforce answers again.',
    '',
    '## Targets',
    '',
    ...targetLines(results),
    '',
    '## Webhook intake',
    '',
    '![p99 latency against load](performance-latency.svg)',
    '',
    rendered,
    '',
  ].join('\n');
  return { markdown, svg: svg(results), tables: rendered };
}
