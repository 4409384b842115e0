import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe } from 'node:test';
import type { CreateOptions } from '../oci-runtime.ts';
import { FakeOciRuntime } from './fake-oci-runtime.ts';
import { ociRuntimeSuite } from './oci-runtime.suite.ts';

describe('FakeOciRuntime passes the OciRuntime suite', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'hbx-fake-rt-'));
  const runtime = new FakeOciRuntime();
  let n = 0;
  const box = (name: string): CreateOptions => {
    n += 1;
    const id = n.toString(16).padStart(64, 'a');
    const bundle = path.join(root, id);
    fs.mkdirSync(bundle, { recursive: true });
    return { id, name, bundle, exitDir: path.join(root, 'exits'), terminal: false, stdin: false };
  };
  after(() => fs.rmSync(root, { recursive: true, force: true }));
  ociRuntimeSuite({
    runtime: () => runtime,
    sleeper: async () => {
      const o = box(`sleeper-${n}`);
      // A shell that traps USR1 and exits 42, as the suite's sleeper does on runc.
      runtime.processes.set(o.name, { traps: { SIGUSR1: 42 } });
      return o;
    },
    exiting: async (code) => {
      const o = box(`exiting-${n}`);
      runtime.processes.set(o.name, { exitAtStart: code });
      return o;
    },
  });
});
