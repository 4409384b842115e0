import { InvalidArgumentError } from '../errors.ts';
import { type Digest, parseDigest } from './digest.ts';

/**
 * Small checkers for documents that come from outside (archives, registries). Each names the offending field in
 * its error, e.g. `manifest layers[1].size: must be a non-negative integer, got "12"`.
 *
 * Unknown properties are ignored, not refused: the OCI image spec requires readers to ignore them, and real
 * images carry many (docker's container_config, podman's annotations). Known properties are checked strictly.
 */
export function fail(what: string, message: string, value: unknown): never {
  const shown = JSON.stringify(value);
  throw new InvalidArgumentError(
    `${what}: ${message}, got ${shown === undefined ? 'nothing' : shown.length > 80 ? `${shown.slice(0, 80)}…` : shown}`,
  );
}

export function object(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    fail(what, 'must be an object', value);
  return value as Record<string, unknown>;
}

export function string(value: unknown, what: string): string {
  if (typeof value !== 'string') fail(what, 'must be a string', value);
  return value;
}

export function optionalString(value: unknown, what: string): string | undefined {
  return value === undefined ? undefined : string(value, what);
}

export function nonEmptyString(value: unknown, what: string): string {
  if (typeof value !== 'string' || value === '') fail(what, 'must be a non-empty string', value);
  return value;
}

export function size(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    fail(what, 'must be a non-negative integer', value);
  }
  return value;
}

export function array(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) fail(what, 'must be an array', value);
  return value;
}

export function stringArray(value: unknown, what: string): string[] {
  return array(value, what).map((v, i) => string(v, `${what}[${i}]`));
}

/** `null` counts as absent: docker writes `"Cmd": null`. */
export function optionalStringArray(value: unknown, what: string): string[] | undefined {
  return value === undefined || value === null ? undefined : stringArray(value, what);
}

export function stringMap(value: unknown, what: string): Record<string, string> {
  const o = object(value, what);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(o)) out[k] = string(v, `${what}[${JSON.stringify(k)}]`);
  return out;
}

export function optionalStringMap(value: unknown, what: string): Record<string, string> | undefined {
  return value === undefined || value === null ? undefined : stringMap(value, what);
}

/** Docker's "set" objects: `{"80/tcp": {}}`. */
export function optionalSet(value: unknown, what: string): Record<string, Record<string, never>> | undefined {
  if (value === undefined || value === null) return undefined;
  const o = object(value, what);
  const out: Record<string, Record<string, never>> = {};
  for (const [k, v] of Object.entries(o)) {
    object(v, `${what}[${JSON.stringify(k)}]`);
    out[k] = {};
  }
  return out;
}

export function digest(value: unknown, what: string): Digest {
  return parseDigest(value, what);
}

export function parseJson(bytes: Uint8Array | string, what: string): unknown {
  try {
    return JSON.parse(typeof bytes === 'string' ? bytes : Buffer.from(bytes).toString('utf8'));
  } catch (err) {
    throw new InvalidArgumentError(`${what}: not valid JSON (${(err as Error).message})`, { cause: err });
  }
}
