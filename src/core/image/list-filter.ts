import { InvalidArgumentError } from '../errors.ts';
import { familiarName, familiarRepository, parseReference } from './reference.ts';

/**
 * `images --filter` (docker's names): dangling=true|false, label=KEY or KEY=VALUE, reference=GLOB (matched against
 * the familiar repository and repository:tag), before=IMAGE, since=IMAGE. Pure: the service supplies the facts.
 */
export interface ImageFilters {
  dangling?: boolean;
  label?: string[];
  reference?: string[];
  before?: string;
  since?: string;
}

export interface FilterFacts {
  names: string[]; // normalised tags
  labels: Record<string, string>;
  created: number; // seconds
}

/** Parses CLI-style `key=value` filter strings. */
export function parseImageFilters(args: readonly string[]): ImageFilters {
  const f: ImageFilters = {};
  for (const arg of args) {
    const eq = arg.indexOf('=');
    const key = eq === -1 ? arg : arg.slice(0, eq);
    const value = eq === -1 ? '' : arg.slice(eq + 1);
    switch (key) {
      case 'dangling':
        if (!['true', 'false', '1', '0'].includes(value)) {
          throw new InvalidArgumentError(`invalid filter 'dangling=${value}': must be true or false`);
        }
        f.dangling = value === 'true' || value === '1';
        break;
      case 'label':
        f.label = [...(f.label ?? []), value];
        break;
      case 'reference':
        f.reference = [...(f.reference ?? []), value];
        break;
      case 'before':
      case 'since':
        f[key] = value;
        break;
      default:
        throw new InvalidArgumentError(
          `invalid filter '${key}' (supported: dangling, label, reference, before, since)`,
        );
    }
  }
  return f;
}

export function matchesFilters(
  facts: FilterFacts,
  f: ImageFilters,
  bounds: { before?: number; since?: number } = {},
): boolean {
  if (f.dangling !== undefined && (facts.names.length === 0) !== f.dangling) return false;
  for (const l of f.label ?? []) {
    const eq = l.indexOf('=');
    if (eq === -1 ? !(l in facts.labels) : facts.labels[l.slice(0, eq)] !== l.slice(eq + 1)) return false;
  }
  if (f.reference?.length) {
    const candidates = facts.names.flatMap((n) => [familiarRepository(parseReference(n)), familiarName(n)]);
    if (!f.reference.some((pattern) => candidates.some((c) => globMatch(pattern, c)))) return false;
  }
  if (bounds.before !== undefined && facts.created >= bounds.before) return false;
  if (bounds.since !== undefined && facts.created <= bounds.since) return false;
  return true;
}

/** Go's path.Match: `*` and `?` stop at "/", `[...]` classes. */
export function globMatch(pattern: string, s: string): boolean {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end === -1) return false;
      const body = pattern.slice(i + 1, end).replace(/^\^/, '!');
      re += `[${body.startsWith('!') ? `^${body.slice(1)}` : body}]`;
      i = end;
    } else if (c === '\\' && i + 1 < pattern.length) re += `\\${pattern[++i]}`;
    else re += c.replace(/[.+^${}()|\\/]/g, '\\$&');
  }
  return new RegExp(`${re}$`).test(s);
}
