import { InvalidArgumentError } from '../errors.ts';
import type { ContainerView } from './views.ts';

/** The filters `ps --filter` and `GET /containers/json?filters=` accept. */
const KNOWN = ['id', 'name', 'status', 'label', 'exited', 'ancestor'];
const STATUSES = ['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead'];

/** Checks docker's container filters (key -> values); unknown keys and statuses are refused by name. */
export function checkContainerFilters(map: Map<string, string[]>): Map<string, string[]> {
  for (const key of map.keys())
    if (!KNOWN.includes(key)) throw new InvalidArgumentError(`invalid filter '${key}'`);
  for (const s of map.get('status') ?? []) {
    if (!STATUSES.includes(s)) throw new InvalidArgumentError(`invalid filter 'status=${s}'`);
  }
  return map;
}

/** `key=value` strings (the CLI's --filter) as a checked filter map. */
export function parseContainerFilters(filters: string[]): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const f of filters) {
    const eq = f.indexOf('=');
    if (eq <= 0) throw new InvalidArgumentError(`bad format of filter (expected name=value): ${f}`);
    const key = f.slice(0, eq);
    map.set(key, [...(map.get(key) ?? []), f.slice(eq + 1)]);
  }
  return checkContainerFilters(map);
}

/** docker's rules: any value of a key may match, every key must; labels must all match. */
export function matchesContainerFilters(r: ContainerView, f: Map<string, string[]>): boolean {
  const any = (key: string, test: (v: string) => boolean) => !f.has(key) || f.get(key)!.some(test);
  return (
    any('id', (v) => r.id.startsWith(v)) &&
    any('name', (v) => r.name.includes(v.replace(/^\//, ''))) &&
    any('status', (v) => r.state.status === v) &&
    any('exited', (v) => r.state.status === 'exited' && String(r.state.exitCode) === v) &&
    any(
      'ancestor',
      (v) => r.config.image === v || r.imageId.replace('sha256:', '').startsWith(v.replace('sha256:', '')),
    ) &&
    (!f.has('label') ||
      f.get('label')!.every((l) => {
        const eq = l.indexOf('=');
        return eq < 0 ? l in r.config.labels : r.config.labels[l.slice(0, eq)] === l.slice(eq + 1);
      }))
  );
}

/**
 * docker's `ps` selection, the same for the CLI and the API: only running, paused and restarting containers unless
 * `all`, a status or exited filter, or a limit asks for the others; then the filters; then the newest `limit`
 * (records come newest first).
 */
export function selectContainers<T extends ContainerView>(
  records: T[],
  opts: { all: boolean; filters: Map<string, string[]>; limit?: number },
): T[] {
  const { all, filters, limit } = opts;
  const showAll = all || filters.has('status') || filters.has('exited') || limit !== undefined;
  const shown = showAll ? records : records.filter((r) => LIVE.includes(r.state.status));
  const matching = shown.filter((r) => matchesContainerFilters(r, filters));
  return limit === undefined ? matching : matching.slice(0, limit);
}

const LIVE: readonly string[] = ['running', 'paused', 'restarting'];
