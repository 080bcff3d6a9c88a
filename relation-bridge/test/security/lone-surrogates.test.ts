import { type BridgeHarness, startBridgeHarness } from '../helpers/bridge-harness';
import { fullPayload, inParallel, pollWhile, postWebhook, setPath, TEXT_FIELDS } from './hostile';

/**
 * The outside review's first finding: a JSON `\ud800` in `action.id` was stored, read back
 * as U+FFFD and never matched its row again, and 1,000 of them hung the bridge. Through
 * the whole bridge over HTTP: text that cannot round-trip is refused field by field, while
 * the bridge keeps answering and keeps taking valid webhooks.
 */

/** Ways text can fail to be well-formed Unicode, or be unstorable, inside a JSON string. */
const SPOILERS = [
  (text: string) => `${text}\ud800`,
  (text: string) => `\udfff${text}`,
  (text: string) => `${text.slice(0, 1)}\udc00\ud800${text.slice(1)}`,
  (text: string) => `\ud83d${text}`,
  (text: string) => `${text}\u0000`,
] as const;

const HOSTILE = 1_000;
const VALID_EVERY = 25;

let harness: BridgeHarness;

beforeAll(async () => {
  harness = await startBridgeHarness();
});

afterAll(async () => {
  await harness.close();
});

it('1,000 signed webhooks with lone surrogates or U+0000 in every field get a 400 naming the field, store nothing, while /healthz answers and valid webhooks are accepted', async () => {
  const hostile = Array.from({ length: HOSTILE }, (_, index) => {
    const field = TEXT_FIELDS[index % TEXT_FIELDS.length] as string;
    const spoil = SPOILERS[Math.floor(index / TEXT_FIELDS.length) % SPOILERS.length] as (text: string) => string;
    const payload = fullPayload(`act_hostile_${index}`);
    const keys = field.split('.');
    let original: unknown = payload;
    for (const key of keys) original = (original as Record<string, unknown>)[key];
    setPath(payload, field, spoil(String(original)));
    return { kind: 'hostile' as const, field, body: JSON.stringify(payload), actionId: payload.action.id };
  });
  const valid = Array.from({ length: HOSTILE / VALID_EVERY }, (_, index) => {
    const payload = fullPayload(`act_valid_${index}`);
    return { kind: 'valid' as const, field: null, body: JSON.stringify(payload), actionId: payload.action.id };
  });
  // A valid webhook after every 25 hostile ones.
  const deliveries = hostile.flatMap((delivery, index) =>
    (index + 1) % VALID_EVERY === 0
      ? [delivery, valid[(index + 1) / VALID_EVERY - 1] as (typeof valid)[number]]
      : [delivery],
  );
  expect(deliveries).toHaveLength(HOSTILE + valid.length);
  // The lone surrogate really is in the bytes sent, as a JSON escape (it has no UTF-8 form).
  expect(hostile[0]?.body).toContain('\\ud800');

  let finished = false;
  const polling = pollWhile(`${harness.baseUrl}/healthz`, () => finished, 60_000);
  const answers = await inParallel(deliveries, 16, async (delivery) => ({
    delivery,
    answer: await postWebhook(harness.baseUrl, delivery.body),
  }));
  finished = true;
  const polls = await polling;

  const wrong = answers.filter(({ delivery, answer }) =>
    delivery.kind === 'valid'
      ? answer.status !== 202
      : answer.status !== 400 ||
        answer.json?.error !== 'invalid_payload' ||
        !answer.json.details.some((detail: { path: string }) => detail.path === delivery.field),
  );
  expect(
    wrong.map(({ delivery, answer }) => ({ field: delivery.field, status: answer.status, body: answer.text })),
  ).toEqual([]);

  const counts = await harness.bridge.store.actions.countByState({});
  expect(Object.values(counts).reduce((sum, count) => sum + count, 0)).toBe(valid.length);
  for (const { actionId } of valid) expect(await harness.bridge.store.actions.get(actionId)).not.toBeNull();
  // A hostile body refused for another field carried a valid action id: not one was kept.
  const kept = await inParallel(hostile, 16, async ({ actionId }) => harness.bridge.store.actions.get(actionId));
  expect(kept.filter((action) => action !== null)).toEqual([]);

  expect(polls.length).toBeGreaterThan(0);
  expect(polls.filter((poll) => poll.status !== 200)).toEqual([]);
  const worst = Math.max(...polls.map((poll) => poll.ms));
  process.stdout.write(
    `lone surrogates: ${HOSTILE} refused, ${valid.length} accepted; ${polls.length} /healthz polls, worst ${worst.toFixed(0)} ms\n`,
  );
}, 120_000);
