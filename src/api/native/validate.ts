import type { z } from 'zod';
import { InvalidArgumentError } from '../../core/errors.ts';
import type { Exchange } from '../exchange.ts';
import { parseJsonText } from '../json-text.ts';

/** Native request bodies are small JSON documents (a container config is a few KiB). */
export const MAX_NATIVE_BODY = 1024 * 1024;

/**
 * The request body, parsed and checked against its schema: malformed JSON, a field of the wrong type, an unknown
 * field (every object schema is strict) and a body over MAX_NATIVE_BODY are the client's error (400), with a
 * message naming the field.
 */
export async function readBody<S extends z.ZodType>(ex: Exchange, schema: S): Promise<z.output<S>> {
  const raw = (await ex.body(MAX_NATIVE_BODY)).toString('utf8');
  return parseBody(raw, schema);
}

/** The checking half of readBody, on text (the unit tests' entry). An empty body is `{}`. */
export function parseBody<S extends z.ZodType>(raw: string, schema: S, where = 'request body'): z.output<S> {
  const value: unknown = raw.trim() === '' ? {} : parseJsonText(raw, where);
  return check(schema, value, where);
}

/** The query string checked against its schema (values are strings; a repeated key keeps its last value). */
export function readQuery<S extends z.ZodType>(ex: Exchange, schema: S): z.output<S> {
  return check(schema, Object.fromEntries(ex.query), 'query');
}

function check<S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  const r = schema.safeParse(value, { reportInput: true });
  if (r.success) return r.data;
  throw new InvalidArgumentError(`invalid ${where}: ${r.error.issues.map(describeIssue).join('; ')}`);
}

/** One problem, naming the field by its path (`config.resources.memory`). */
function describeIssue(issue: z.core.$ZodIssue): string {
  const at = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys')
    return issue.keys.map((k) => `unknown field "${at ? `${at}.${k}` : k}"`).join('; ');
  const field = at ? `field "${at}"` : 'body';
  if (issue.code === 'invalid_type') {
    const received = issue.input === undefined ? 'nothing' : describeValue(issue.input);
    return `${field}: expected ${issue.expected}, got ${received}`;
  }
  return `${field}: ${issue.message}`;
}

function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  if (typeof v === 'number' || typeof v === 'boolean') return `${typeof v} ${v}`;
  return typeof v;
}
