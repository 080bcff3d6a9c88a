/**
 * The naive baseline the bridge is measured against, written as a first version would be:
 * Express, the same signature check and JSON parse, then one SQLite transaction per request
 * (WAL, synchronous=FULL) on the event loop, answering 202 after its commit.
 * Its own process; prints {"port": N} on stdout when it listens.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import express from 'express';
import { verifyWebhookSignature } from '../src/intake/signature';

const [dataDir, secret] = process.argv.slice(2) as [string, string];
fs.mkdirSync(dataDir, { recursive: true });
const db = new Database(path.join(dataDir, 'baseline.db'));
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.exec(`CREATE TABLE IF NOT EXISTS actions (
  action_id TEXT PRIMARY KEY, webhook_id TEXT NOT NULL, payload TEXT NOT NULL, received_at INTEGER NOT NULL)`);
const insert = db.prepare(
  'INSERT INTO actions (action_id, webhook_id, payload, received_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING',
);

const app = express();
app.post('/webhooks/relation', express.raw({ type: () => true, limit: '1mb' }), (req, res) => {
  const body = req.body as Buffer;
  const verified = verifyWebhookSignature({
    id: req.get('webhook-id'),
    timestamp: req.get('webhook-timestamp'),
    signatureHeader: req.get('webhook-signature'),
    rawBody: body,
    secrets: [secret],
    toleranceSeconds: 300,
    now: Date.now(),
  });
  if (!verified.ok) {
    res.status(401).json({ error: 'invalid_signature' });
    return;
  }
  let payload: { action?: { id?: unknown } };
  try {
    payload = JSON.parse(body.toString('utf8')) as typeof payload;
  } catch {
    res.status(400).json({ error: 'invalid_payload' });
    return;
  }
  const actionId = String(payload.action?.id ?? '');
  db.transaction(() => insert.run(actionId, req.get('webhook-id'), body.toString('utf8'), Date.now())).immediate();
  res.status(202).json({ status: 'accepted', action_id: actionId });
});
const server = app.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(
    `${JSON.stringify({ port: typeof address === 'object' && address !== null ? address.port : 0 })}\n`,
  );
});
