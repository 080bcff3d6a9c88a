import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { parseWebhookBody, webhookBodySchema } from '../../src/intake/schema';
import { verifyWebhookSignature } from '../../src/intake/signature';

/**
 * The project publishes its webhook contract as prose (docs/webhook-contract.md) and as a
 * JSON Schema (docs/webhook.schema.json); intake validates with zod. These tests keep the
 * three saying the same thing.
 */

const docsDir = path.join(__dirname, '..', '..', '..', 'docs');
const contract = fs.readFileSync(path.join(docsDir, 'webhook-contract.md'), 'utf8');
const jsonSchema = JSON.parse(fs.readFileSync(path.join(docsDir, 'webhook.schema.json'), 'utf8')) as SchemaNode;

interface SchemaNode {
  type?: string | string[];
  anyOf?: SchemaNode[];
  properties?: Record<string, SchemaNode>;
  required?: string[];
  items?: SchemaNode;
  const?: unknown;
  enum?: unknown[];
  minLength?: number;
  maxLength?: number;
  maxItems?: number;
  minimum?: number;
  maximum?: number;
  format?: string;
  pattern?: string;
  additionalProperties?: unknown;
  examples?: unknown[];
}

/** What a schema node says about valid values, in one canonical shape (descriptions, examples and patterns aside). */
function constraints(node: SchemaNode): Record<string, unknown> {
  const variants = node.anyOf ?? [node];
  const types = new Set<string>();
  const merged: Record<string, unknown> = {};
  for (const variant of variants) {
    for (const type of [variant.type ?? []].flat()) types.add(type);
    for (const key of [
      'const',
      'enum',
      'minLength',
      'maxLength',
      'maxItems',
      'minimum',
      'maximum',
      'format',
    ] as const) {
      if (variant[key] !== undefined) merged[key] = variant[key];
    }
    if (variant.properties !== undefined) {
      merged.properties = Object.fromEntries(
        Object.entries(variant.properties).map(([name, child]) => [name, constraints(child)]),
      );
      merged.required = [...(variant.required ?? [])].sort();
    }
    if (variant.items !== undefined) merged.items = constraints(variant.items);
  }
  return { types: [...types].sort(), ...merged };
}

/** Every property path in the schema, with whether its parent object requires it. */
function propertyPaths(node: SchemaNode, prefix = ''): Array<{ path: string; required: boolean }> {
  const paths: Array<{ path: string; required: boolean }> = [];
  for (const [name, child] of Object.entries(node.properties ?? {})) {
    const childPath = prefix === '' ? name : `${prefix}.${name}`;
    paths.push({ path: childPath, required: (node.required ?? []).includes(name) });
    paths.push(...propertyPaths(child, childPath));
  }
  return paths;
}

function without(body: unknown, dotPath: string): unknown {
  const copy = structuredClone(body) as Record<string, unknown>;
  const keys = dotPath.split('.');
  const last = keys.pop() as string;
  const parent = keys.reduce<Record<string, unknown>>((node, key) => node[key] as Record<string, unknown>, copy);
  delete parent[last];
  return copy;
}

function fencedBlock(language: string, after: string): string {
  const start = contract.indexOf(after);
  const match = new RegExp('```' + language + '\\n([\\s\\S]*?)```').exec(contract.slice(start));
  if (start < 0 || match === null) throw new Error(`no ${language} block after "${after}" in webhook-contract.md`);
  return match[1] as string;
}

const contractExample = JSON.parse(fencedBlock('json', '## Body')) as unknown;

describe('the published webhook contract', () => {
  it('its example body is valid for intake, and is the JSON Schema’s example too', () => {
    expect(parseWebhookBody(contractExample)).toMatchObject({ ok: true });
    expect(jsonSchema.examples?.[0]).toEqual(contractExample);
  });

  it('the JSON Schema states the same types, required properties, enums and limits as intake’s schema', () => {
    const fromZod = z.toJSONSchema(webhookBodySchema, { io: 'input' }) as SchemaNode;
    expect(constraints(jsonSchema)).toEqual(constraints(fromZod));
  });

  it('every property the JSON Schema requires is required by intake, and every other one is optional', () => {
    const paths = propertyPaths(jsonSchema);
    expect(paths.length).toBeGreaterThan(20);
    for (const { path: dotPath, required } of paths) {
      const parentPresent = dotPath
        .split('.')
        .slice(0, -1)
        .reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], contractExample);
      if (dotPath.includes('.') && (parentPresent === undefined || parentPresent === null)) continue;
      const parsed = parseWebhookBody(without(contractExample, dotPath));
      if (required) {
        expect({ dotPath, issues: parsed.ok ? [] : parsed.issues.map((issue) => issue.path) }).toEqual({
          dotPath,
          issues: [dotPath],
        });
      } else {
        expect({ dotPath, ok: parsed.ok }).toEqual({ dotPath, ok: true });
      }
    }
  });

  it('the JSON Schema accepts unknown properties, as intake does', () => {
    const objects = [jsonSchema, ...Object.values(jsonSchema.properties ?? {})];
    for (const node of objects) expect(node.additionalProperties).not.toBe(false);
  });

  it('the JSON Schema’s patterns refuse what intake refuses: times without an offset, non-http URLs', () => {
    const timePattern = new RegExp(jsonSchema.properties?.action?.properties?.occurred_at?.pattern as string);
    const withOffset = ['2026-11-28T10:15:00+09:00', '2026-11-28T01:15:00Z', '2026-11-28T01:15:00.5-05:30'];
    const withoutOffset = [
      '2026-11-28T10:15:00',
      '2026-11-28T10:15:00+0900',
      '2026-11-28 10:15:00+09:00',
      '2026-11-28',
    ];
    for (const value of withOffset) {
      expect({
        value,
        schema: timePattern.test(value),
        intake: webhookBodySchema.shape.action.shape.occurred_at.safeParse(value).success,
      }).toEqual({
        value,
        schema: true,
        intake: true,
      });
    }
    for (const value of withoutOffset) {
      expect({
        value,
        schema: timePattern.test(value),
        intake: webhookBodySchema.shape.action.shape.occurred_at.safeParse(value).success,
      }).toEqual({
        value,
        schema: false,
        intake: false,
      });
    }
    const urlPattern = new RegExp(jsonSchema.properties?.ticket?.properties?.url?.pattern as string);
    for (const [url, valid] of [
      ['https://example.relationapp.jp/tickets/1', true],
      ['http://helpdesk.local/t/1', true],
      ['ftp://example.com/t/1', false],
      ['javascript:alert(1)', false],
    ] as const) {
      expect({
        url,
        schema: urlPattern.test(url),
        intake: webhookBodySchema.shape.ticket.shape.url.safeParse(url).success,
      }).toEqual({
        url,
        schema: valid,
        intake: valid,
      });
    }
  });

  it('the worked signature example verifies, and its body is a valid webhook', () => {
    const lines = Object.fromEntries(
      fencedBlock('text', '### Worked example')
        .trim()
        .split('\n')
        .map((line) => {
          const [label = '', ...rest] = line.split(/\s+/);
          return [label, rest.join(' ')];
        }),
    ) as Record<string, string>;
    const body = Buffer.from(lines.body as string, 'utf8');
    const timestamp = lines['webhook-timestamp'] as string;
    expect(
      verifyWebhookSignature({
        id: lines['webhook-id'],
        timestamp,
        signatureHeader: lines['webhook-signature'],
        rawBody: body,
        secrets: [lines.secret as string],
        toleranceSeconds: 300,
        now: Number(timestamp) * 1000,
      }),
    ).toEqual({ ok: true });
    expect(parseWebhookBody(JSON.parse(body.toString('utf8')))).toMatchObject({ ok: true });
  });
});
