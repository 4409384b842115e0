import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { contentStoreSuite } from './content-store.suite.ts';
import { FakeContentStore } from './fake-content-store.ts';

contentStoreSuite('FakeContentStore', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hbx-fake-content-'));
  return {
    store: new FakeContentStore(dir),
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
});
