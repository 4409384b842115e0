import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FakeNetworkDriver } from './fake-network-driver.ts';
import { networkDriverSuite } from './network-driver.suite.ts';

networkDriverSuite('fake', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hbx-fake-net-'));
  return {
    driver: new FakeNetworkDriver(),
    dir,
    close: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
});
