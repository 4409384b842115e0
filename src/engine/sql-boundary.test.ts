import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

/**
 * SQL lives in stores only: one store per table family (`engine/<domain>/store.ts`, or a `*-store.ts` beside its
 * service) owns its tables, and everything else asks it. This test reads the sources and fails when a statement
 * appears anywhere else, so that the rule holds as the code grows.
 */
const SRC = path.resolve(import.meta.dirname, '..');

/** Where a call into the database (prepare / exec of SQL text) may stand. */
function isStore(file: string): boolean {
  const rel = path.relative(SRC, file);
  return rel.startsWith(`drivers${path.sep}store${path.sep}`) || /(^|[-/])store\.ts$/.test(rel);
}

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...sources(p));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

/**
 * Modules that still hold SQL of their own while the engine moves into one folder per domain, each with its store.
 * The list may only shrink: a module listed here that no longer sends SQL fails the test until it is taken off.
 */
const PENDING: string[] = [];

/** A statement handed to SQLite: `.prepare(` or `.exec(` with SQL text. */
const STATEMENT =
  /\.(prepare|exec)\(\s*[`'"]\s*(SELECT|INSERT|UPDATE|DELETE|CREATE|DROP|ALTER|PRAGMA|BEGIN|WITH)\b/i;

describe('the SQL boundary', () => {
  it('no module but a store sends SQL to the database', () => {
    const outside = sources(SRC)
      .filter((f) => !isStore(f) && STATEMENT.test(fs.readFileSync(f, 'utf8')))
      .map((f) => path.relative(SRC, f))
      .sort();
    assert.deepEqual(
      outside.filter((f) => !PENDING.includes(f)),
      [],
    );
    assert.deepEqual(
      PENDING.filter((f) => !outside.includes(f)),
      [],
      'take these off PENDING: they send no SQL any more',
    );
  });

  it('recognizes a statement, in a store or not', () => {
    assert.ok(STATEMENT.test("db.prepare('SELECT id FROM t')"));
    assert.ok(STATEMENT.test('db\n  .prepare(\n    `INSERT INTO t VALUES (?)`'));
    assert.equal(STATEMENT.test("cmd.exec('docker')"), false);
    assert.ok(isStore(path.join(SRC, 'engine', 'containers', 'store.ts')));
    assert.ok(isStore(path.join(SRC, 'engine', 'container-store.ts')));
    assert.equal(isStore(path.join(SRC, 'engine', 'images.ts')), false);
  });
});
