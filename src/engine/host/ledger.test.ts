import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { syntheticHost } from '../../core/ledger/synthetic-host.ts';
import { DEFAULT_POLICY } from '../../core/ledger/types.ts';
import { Database } from '../../drivers/store/database.ts';
import { Ledger } from './ledger.ts';

const G = 1024 ** 3;
const here = path.dirname(fileURLToPath(import.meta.url));
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'hbx-ledger-'));
after(() => fs.rmSync(scratch, { recursive: true, force: true }));

const host = syntheticHost({ cores: 8, threads: 2, memoryBytes: 64 * G, diskBytes: 1000 * G });

function openLedger(file: string): { db: Database; ledger: Ledger } {
  const db = new Database(file);
  return { db, ledger: new Ledger({ db, host, policy: DEFAULT_POLICY }) };
}

const req = (name: string, cpus = 1) => ({
  ownerId: `id-${name}`,
  ownerName: name,
  kind: 'vm' as const,
  cpus,
  memoryBytes: G,
  diskBytes: 10 * G,
});

describe('ledger (SQLite)', () => {
  it('reserves, lists, refuses a second reservation for one owner, and releases idempotently', () => {
    const { db, ledger } = openLedger(path.join(scratch, 'basic.sqlite'));
    const a = ledger.reserve(req('a', 2));
    assert.equal(a.cpus.length, 2);
    assert.deepEqual(ledger.get('id-a'), a);
    assert.throws(() => ledger.reserve(req('a', 1)), /already holds a reservation/);
    ledger.reserve(req('b', 1));
    assert.deepEqual(
      ledger.list().map((r) => r.ownerName),
      ['a', 'b'],
    );
    assert.equal(ledger.sharedCpus().length, 16 - 3);
    ledger.release('id-a');
    ledger.release('id-a');
    assert.equal(ledger.get('id-a'), undefined);
    assert.equal(ledger.sharedCpus().length, 16 - 1);
    db.close();
  });

  it("refuses a container cpuset on a VM's CPUs, naming the CPUs, the VM and what is left", () => {
    const { db, ledger } = openLedger(path.join(scratch, 'cpuset.sqlite'));
    const web = ledger.reserve({ ...req('web', 2), cpuList: [3, 11] });
    assert.deepEqual(web.cpus, [3, 11]);
    ledger.checkCpuset([0, 1, 2]);
    assert.throws(
      () => ledger.checkCpuset([2, 3, 4]),
      (err: Error & { code?: string }) => {
        assert.equal(err.code, 'ResourceExhausted');
        assert.match(
          err.message,
          /^--cpuset-cpus 2-4: CPU 3 is dedicated to VM web; containers may use CPUs 0-2,4-10,12-15$/,
        );
        return true;
      },
    );
    db.close();
  });

  it('never hands out a CPU twice when several processes reserve at once', async () => {
    const file = path.join(scratch, 'race.sqlite');
    openLedger(file).db.close(); // migrate once up front; the racers then only contend for reservations
    const workers = 6;
    const perWorker = 5; // 30 one-CPU requests for 15 CPUs (16 minus the host's one)
    const child = `
      import { Database } from ${JSON.stringify(path.join(here, '../../drivers/store/database.ts'))};
      import { Ledger } from ${JSON.stringify(path.join(here, 'ledger.ts'))};
      import { syntheticHost } from ${JSON.stringify(path.join(here, '../../core/ledger/synthetic-host.ts'))};
      import { DEFAULT_POLICY } from ${JSON.stringify(path.join(here, '../../core/ledger/types.ts'))};
      const G = 1024 ** 3;
      const db = new Database(process.argv[1]);
      const ledger = new Ledger({ db, host: syntheticHost({ cores: 8, threads: 2, memoryBytes: 64 * G, diskBytes: 1000 * G }), policy: DEFAULT_POLICY });
      const out = [];
      // All workers start at the same instant, so their reservations really interleave.
      while (Date.now() < Number(process.argv[3])) {}
      for (let i = 0; i < ${perWorker}; i++) {
        const name = 'w' + process.argv[2] + '-' + i;
        try { out.push({ ok: ledger.reserve({ ownerId: name, ownerName: name, kind: 'vm', cpus: 1, memoryBytes: G, diskBytes: G }).cpus }); }
        catch (e) { out.push({ err: e.code }); }
      }
      db.close();
      console.log(JSON.stringify(out));
    `;
    const startAt = String(Date.now() + 700);
    const results = await Promise.all(
      Array.from(
        { length: workers },
        (_, w) =>
          new Promise<{ ok?: number[]; err?: string }[]>((resolve, reject) => {
            const p = spawn(
              process.execPath,
              ['--input-type=module', '-e', child, file, String(w), startAt],
              {
                stdio: ['ignore', 'pipe', 'inherit'],
              },
            );
            let out = '';
            p.stdout.on('data', (d) => (out += d));
            p.on('close', (code) =>
              code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`worker exit ${code}`)),
            );
          }),
      ),
    );
    const flat = results.flat();
    const granted = flat.flatMap((r) => r.ok ?? []);
    assert.equal(granted.length, 15, 'every free CPU granted');
    assert.equal(new Set(granted).size, granted.length, `no CPU twice: ${granted.join(',')}`);
    assert.ok(!granted.includes(0), 'the host reserve stays the host');
    assert.equal(flat.filter((r) => r.err === 'ResourceExhausted').length, workers * perWorker - 15);
    const { db, ledger } = openLedger(file);
    assert.equal(ledger.list().length, 15);
    db.close();
  });
});
