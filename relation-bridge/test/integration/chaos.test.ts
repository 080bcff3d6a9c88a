import { chaosTable, runChaos } from '../../scripts/chaos/run';
import { postgresAdminUrl } from '../store/databases';

/**
 * The chaos run of `npm run chaos`, at 20 kills: three bridges on one PostgreSQL and one on
 * SQLite under signed load with random Salesforce faults, one bridge SIGKILLed at a time.
 * Every webhook that got a 2xx must become exactly one Event, and no Event may appear for
 * anything else. (`npm run chaos -- --kills 500` is the long run.)
 */
describe('chaos: bridges killed at random under load and faults', () => {
  it('loses nothing acknowledged, duplicates nothing, and writes nothing unexpected', async () => {
    const admin = postgresAdminUrl();
    if (admin === null) process.stdout.write('chaos: PostgreSQL does not answer; running the SQLite bridge alone\n');
    const result = await runChaos({ kills: 20, rate: 40, killEveryMs: [500, 1_200], postgresAdminUrl: admin });
    process.stdout.write(`${chaosTable(result)}\n`);
    expect(result.kills).toBe(20);
    expect(result.groups.every((group) => group.acked > 0)).toBe(true);
    expect({ lost: result.lost, duplicated: result.duplicated, unexpected: result.unexpected }).toEqual({
      lost: 0,
      duplicated: 0,
      unexpected: 0,
    });
  }, 600_000);
});
