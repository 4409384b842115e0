import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { Database } from './database.ts';
import type { SpaceKeeper } from './space-keeper.ts';

/** A store whose file may not grow past its current pages: SQLite then fails writes with SQLITE_FULL. */
function cappedStore(dir: string, space?: SpaceKeeper): Database {
  const db = new Database(path.join(dir, `db-${Math.random().toString(16).slice(2)}.sqlite`), {
    ...(space ? { space } : {}),
  });
  db.exec('CREATE TABLE t (x TEXT)');
  const pages = (db.prepare('PRAGMA page_count').get() as { page_count: number }).page_count;
  db.exec(`PRAGMA max_page_count = ${pages + 2}`);
  return db;
}

const fill = (db: Database) => {
  for (let i = 0; i < 100; i++) db.prepare('INSERT INTO t VALUES (?)').run('x'.repeat(2000));
};

describe('Database', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hbx-db-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('reports the error that ended a transaction SQLite rolled back itself, not a failed ROLLBACK', () => {
    const db = cappedStore(dir);
    assert.throws(
      () => db.transaction(() => fill(db)),
      (err: Error & { errcode?: number }) => {
        assert.match(err.message, /database or disk is full/);
        assert.equal(err.errcode, 13);
        return true;
      },
    );
    assert.equal(db.inTransaction, false);
    // Nothing of it was kept, and the store goes on working.
    assert.equal((db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n, 0);
    db.transaction(() => db.prepare('INSERT INTO t VALUES (?)').run('ok'));
    assert.equal((db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n, 1);
    db.close();
  });

  it('reports the same from a nested transaction (a savepoint) that filled the disk', () => {
    const db = cappedStore(dir);
    assert.throws(
      () =>
        db.transaction(() => {
          db.prepare('INSERT INTO t VALUES (?)').run('outer');
          db.transaction(() => fill(db));
        }),
      /database or disk is full/,
    );
    assert.equal((db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n, 0);
    db.close();
  });

  it('still rolls back what a failing transaction wrote when SQLite did not', () => {
    const db = cappedStore(dir);
    assert.throws(
      () =>
        db.transaction(() => {
          db.prepare('INSERT INTO t VALUES (?)').run('gone');
          throw new Error('refused');
        }),
      /refused/,
    );
    assert.equal((db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n, 0);
    db.close();
  });

  it('asks its space keeper before the open and before each transaction, and checkpoints often while short', () => {
    let asked = 0;
    let short = false;
    const space: SpaceKeeper = {
      beforeWrite: () => {
        asked++;
        return short;
      },
      giveBack: () => 0,
      requireRoom: () => {},
      settle: () => {},
    };
    const db = cappedStore(dir, space);
    const afterOpen = asked;
    assert.ok(afterOpen >= 1, 'asked before the open');
    const checkpointPages = () =>
      (db.prepare('PRAGMA wal_autocheckpoint').get() as { wal_autocheckpoint: number }).wal_autocheckpoint;
    assert.equal(checkpointPages(), 1000);
    db.transaction(() => db.transaction(() => db.prepare('INSERT INTO t VALUES (?)').run('a')));
    assert.equal(asked, afterOpen + 1, 'once per outermost transaction');
    short = true;
    db.transaction(() => {});
    assert.equal(checkpointPages(), 32);
    short = false;
    db.transaction(() => {});
    assert.equal(checkpointPages(), 1000);
    db.close();
  });
});
