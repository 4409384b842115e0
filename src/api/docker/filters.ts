import { InvalidArgumentError } from '../../core/errors.ts';

/**
 * docker's `filters` query parameter: JSON, either `{"name":{"web":true}}` (what the CLI sends) or the older
 * `{"name":["web"]}`. Returns key -> values, in docker's CLI form (`name=web`) via `asFlags`.
 */
export function parseFilters(raw: string | null): Map<string, string[]> {
  const out = new Map<string, string[]>();
  if (!raw) return out;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new InvalidArgumentError(`invalid filters: ${raw}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new InvalidArgumentError(`invalid filters: ${raw}`);
  for (const [key, v] of Object.entries(value)) {
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) out.set(key, v);
    else if (typeof v === 'object' && v !== null && !Array.isArray(v)) out.set(key, Object.keys(v));
    else throw new InvalidArgumentError(`invalid filters: the value of "${key}" must be a list or a set`);
  }
  return out;
}

/** The filters as the CLI's `--filter k=v` strings, for the engine's parsers that take those. */
export function asFlags(filters: Map<string, string[]>): string[] {
  return [...filters].flatMap(([k, vs]) => vs.map((v) => `${k}=${v}`));
}

/** A boolean query parameter as docker reads it: 1/true/True, absent is `fallback`. */
export function boolParam(q: URLSearchParams, name: string, fallback = false): boolean {
  const v = q.get(name);
  if (v === null || v === '') return fallback;
  if (['1', 'true', 'True', 'TRUE'].includes(v)) return true;
  if (['0', 'false', 'False', 'FALSE'].includes(v)) return false;
  throw new InvalidArgumentError(`invalid value for ${name}: "${v}" (want a boolean)`);
}

/** An integer query parameter, or undefined when absent; anything else non-numeric is refused with its name. */
export function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  if (!/^-?\d+$/.test(v))
    throw new InvalidArgumentError(`invalid value for ${name}: "${v}" (want an integer)`);
  return Number(v);
}
