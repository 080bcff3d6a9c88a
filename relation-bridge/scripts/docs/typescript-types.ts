/**
 * TypeScript types from the JSON Schemas of an OpenAPI document's components: what the
 * console (browser code without zod) knows of the admin API's answers. Covers what the
 * admin API's schemas use: objects, arrays, records, enums, constants, unions and `$ref`s.
 */

interface JsonSchema {
  $ref?: string;
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  additionalProperties?: JsonSchema | boolean;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  description?: string;
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

function primitive(type: string): string {
  switch (type) {
    case 'string':
      return 'string';
    case 'integer':
    case 'number':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'null':
      return 'null';
    case 'array':
      return 'unknown[]';
    case 'object':
      return 'Record<string, unknown>';
    default:
      throw new Error(`unsupported JSON Schema type ${type}`);
  }
}

function union(members: string[]): string {
  const unique = [...new Set(members)];
  return unique.length === 1 ? (unique[0] as string) : unique.join(' | ');
}

function comment(text: string | undefined, indent: string): string {
  return text === undefined ? '' : `${indent}/** ${text.replace(/\*\//g, '*\\/').replace(/\s+/g, ' ')} */\n`;
}

function typeOf(schema: JsonSchema, indent: string): string {
  if (schema.$ref !== undefined) return schema.$ref.replace('#/components/schemas/', '');
  if (schema.allOf !== undefined) return schema.allOf.map((part) => typeOf(part, indent)).join(' & ');
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives !== undefined) return union(alternatives.map((part) => typeOf(part, indent)));
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  if (schema.enum !== undefined) return union(schema.enum.map((value) => JSON.stringify(value)));
  const types = schema.type === undefined ? [] : [schema.type].flat();
  if (types.length === 0) return 'unknown';
  return union(
    types.map((type) => {
      if (type === 'object' && (schema.properties !== undefined || typeof schema.additionalProperties === 'object')) {
        return objectType(schema, indent);
      }
      if (type === 'array' && schema.items !== undefined) {
        const item = typeOf(schema.items, indent);
        return /^[\w$]+$/.test(item) ? `${item}[]` : `Array<${item}>`;
      }
      return primitive(type);
    }),
  );
}

function objectType(schema: JsonSchema, indent: string): string {
  const inner = `${indent}  `;
  if (schema.properties === undefined && typeof schema.additionalProperties === 'object') {
    return `Record<string, ${typeOf(schema.additionalProperties, indent)}>`;
  }
  const required = new Set(schema.required ?? []);
  const lines = Object.entries(schema.properties ?? {}).map(([name, property]) => {
    const key = IDENTIFIER.test(name) ? name : JSON.stringify(name);
    const optional = required.has(name) ? '' : '?';
    return `${comment(property.description, inner)}${inner}${key}${optional}: ${typeOf(property, inner)};`;
  });
  return `{\n${lines.join('\n')}\n${indent}}`;
}

/** One `export type` per component schema, in the document's order. */
export function typescriptTypes(schemas: Record<string, JsonSchema>, header: string): string {
  const declarations = Object.entries(schemas).map(
    ([name, schema]) => `${comment(schema.description, '')}export type ${name} = ${typeOf(schema, '')};`,
  );
  return `${header}\n\n${declarations.join('\n\n')}\n`;
}
