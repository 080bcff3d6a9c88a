import { performance } from 'node:perf_hooks';

/** An answer slower than this counts as slow: half the intake's latency target (50 ms). */
export const SLOW_ANSWER_MS = 25;
/** The window the share of slow answers is read over, in buckets of a quarter of it. */
const WINDOW_MS = 1_000;
const BUCKETS = 4;
const BUCKET_MS = WINDOW_MS / BUCKETS;

/**
 * How the webhooks are answered, as the sync sees it: of the answers of the last second, the
 * share slower than SLOW_ANSWER_MS. The sync leaves more room between a backlog's batches
 * while it is above a limit, whatever makes the answers slow: the event loop (its own
 * work), SQLite's writer, or PostgreSQL's processes on the same cores, which the event
 * loop's own measure does not see.
 */
export class IntakePressure {
  private readonly total = new Array<number>(BUCKETS).fill(0);
  private readonly slow = new Array<number>(BUCKETS).fill(0);
  /** The bucket (a count of BUCKET_MS since the clock's origin) each slot holds. */
  private readonly slotOf = new Array<number>(BUCKETS).fill(-1);

  constructor(private readonly clock: () => number = () => performance.now()) {}

  /** One webhook answered, after `seconds`. */
  record(seconds: number): void {
    const slot = this.slot(Math.floor(this.clock() / BUCKET_MS));
    this.total[slot] = (this.total[slot] ?? 0) + 1;
    if (seconds * 1000 > SLOW_ANSWER_MS) this.slow[slot] = (this.slow[slot] ?? 0) + 1;
  }

  /** The share of the last second's answers that were slow (0 without answers). */
  slowShare(): number {
    const bucket = Math.floor(this.clock() / BUCKET_MS);
    let total = 0;
    let slow = 0;
    for (let slot = 0; slot < BUCKETS; slot += 1) {
      if (bucket - (this.slotOf[slot] ?? -1) >= BUCKETS) continue;
      total += this.total[slot] ?? 0;
      slow += this.slow[slot] ?? 0;
    }
    return total === 0 ? 0 : slow / total;
  }

  private slot(bucket: number): number {
    const slot = bucket % BUCKETS;
    if (this.slotOf[slot] !== bucket) {
      this.slotOf[slot] = bucket;
      this.total[slot] = 0;
      this.slow[slot] = 0;
    }
    return slot;
  }
}
