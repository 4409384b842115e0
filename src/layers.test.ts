import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

/**
 * The layers, read from the sources' imports: core -> drivers -> engine -> wiring / client -> api -> cli, nothing
 * importing upward. Two seams are narrower still: the engine's vocabulary (engine/api/) speaks only core's types,
 * and the daemon's client (client/) knows the engine only through engine/api/, so that either side can change its
 * insides alone.
 */
const SRC = import.meta.dirname;

const MAY_IMPORT: Record<string, readonly string[]> = {
  core: ['core'],
  drivers: ['core', 'drivers'],
  engine: ['core', 'drivers', 'engine'],
  wiring: ['core', 'drivers', 'engine', 'wiring'],
  client: ['core', 'engine', 'client'],
  api: ['core', 'drivers', 'engine', 'wiring', 'client', 'api'],
  cli: ['core', 'drivers', 'engine', 'wiring', 'client', 'api', 'cli'],
};

/**
 * Imports across the narrow seams that remain while the engine moves into one folder per domain, each with its
 * types in engine/api/. The list may only shrink: an entry that no longer holds fails the test until it is taken off.
 */
const PENDING = new Set<string>([]);

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...sources(p));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

/** `from './x.ts'` and `import('./x.ts')` of the sources, as paths relative to src/. */
function importsOf(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:from|import\()\s*'(\.[^']+)'/g)) {
    const target = path.relative(SRC, path.resolve(path.dirname(file), m[1]!));
    if (!target.startsWith('..')) out.push(target);
  }
  return out;
}

/** Why an import crosses a seam it may not; undefined when it may. */
function crossing(from: string, to: string): string | undefined {
  const [layer] = from.split(path.sep);
  const [target] = to.split(path.sep);
  if (!MAY_IMPORT[layer!]?.includes(target!)) return `${layer} may not import ${target}`;
  const inApi = (p: string) => p.startsWith(`engine${path.sep}api${path.sep}`);
  if (inApi(from) && !to.startsWith(`core${path.sep}`) && !inApi(to)) return 'engine/api speaks core only';
  if (layer === 'client' && target !== 'core' && target !== 'client' && !inApi(to))
    return 'the client knows the engine through engine/api only';
  return undefined;
}

/**
 * The sets of modules that import each other in a ring (strongly connected components of the import graph, type
 * imports included: a ring of types still ties the files together). Each as its members, sorted, joined by ' '.
 */
function circles(graph: Map<string, string[]>): string[] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[] = [];
  const visit = (v: string) => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const ring: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      ring.push(w);
    } while (w !== v);
    if (ring.length > 1 || graph.get(v)?.includes(v)) out.push(ring.sort().join(' '));
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return out.sort();
}

/** Rings that remain while the engine is split; may only shrink, like PENDING. */
const PENDING_CIRCLES = new Set<string>([]);

describe('no import circles', () => {
  const graph = new Map(sources(SRC).map((f) => [path.relative(SRC, f), importsOf(f)]));
  const found = circles(graph);
  it('no module reaches itself through its imports', () => {
    assert.deepEqual(
      found.filter((c) => !PENDING_CIRCLES.has(c)),
      [],
    );
  });
  it('lists as pending only rings that still exist', () => {
    assert.deepEqual(
      [...PENDING_CIRCLES].filter((c) => !found.includes(c)),
      [],
      'take these off PENDING_CIRCLES: they are gone',
    );
  });
  it('finds a ring and only a ring', () => {
    const g = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a']],
      ['d', ['a']],
    ]);
    assert.deepEqual(circles(g), ['a b c']);
    assert.deepEqual(
      circles(
        new Map([
          ['a', ['b']],
          ['b', []],
        ]),
      ),
      [],
    );
  });
});

describe('the layers', () => {
  const found: string[] = [];
  for (const file of sources(SRC)) {
    const from = path.relative(SRC, file);
    for (const to of importsOf(file)) {
      const why = crossing(from, to);
      if (why) found.push(`${from} -> ${to}`);
    }
  }

  it('no module imports across a layer it may not', () => {
    assert.deepEqual(
      found.filter((f) => !PENDING.has(f)),
      [],
    );
  });

  it('lists as pending only crossings that still exist', () => {
    assert.deepEqual(
      [...PENDING].filter((p) => !found.includes(p)),
      [],
      'take these off PENDING: they no longer cross',
    );
  });

  it('tells the crossings apart', () => {
    assert.match(crossing('core/x.ts', 'drivers/y.ts') ?? '', /core may not import drivers/);
    assert.match(crossing('engine/api/a.ts', 'engine/containers.ts') ?? '', /core only/);
    assert.equal(crossing('engine/api/a.ts', 'core/errors.ts'), undefined);
    assert.match(crossing('client/r.ts', 'engine/images.ts') ?? '', /through engine\/api/);
    assert.equal(crossing('cli/main.ts', 'wiring/engine.ts'), undefined);
  });
});
