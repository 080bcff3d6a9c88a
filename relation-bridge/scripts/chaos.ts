/**
 * `npm run chaos -- [--kills N] [--rate R] [--no-postgres]`: the chaos run (scripts/chaos/run.ts)
 * with its table. Exits 1 when anything acknowledged was lost, duplicated, or unexpected.
 */
import { parseArgs } from 'node:util';
import { chaosTable, runChaos } from './chaos/run';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      kills: { type: 'string', default: '20' },
      rate: { type: 'string', default: '40' },
      'no-postgres': { type: 'boolean', default: false },
      postgres: { type: 'string' },
    },
  });
  const kills = Number(values.kills);
  const rate = Number(values.rate);
  if (!Number.isInteger(kills) || kills < 0 || !Number.isFinite(rate) || rate <= 0) {
    process.stderr.write('usage: npm run chaos -- [--kills N] [--rate webhooks/s] [--no-postgres] [--postgres URL]\n');
    process.exit(2);
  }
  const result = await runChaos({
    kills,
    rate,
    postgresAdminUrl: values['no-postgres'] ? null : (values.postgres ?? 'postgres://postgres@127.0.0.1:5432/postgres'),
    settleTimeoutMs: 120_000 + kills * 500,
    log: (line) => process.stdout.write(`${line}\n`),
  });
  process.stdout.write(`\n${chaosTable(result)}\n`);
  process.exit(result.lost + result.duplicated + result.unexpected === 0 ? 0 : 1);
}

main().catch((error: unknown) => {
  process.stderr.write(`chaos run failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
