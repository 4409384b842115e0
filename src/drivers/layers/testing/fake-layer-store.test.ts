import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FakeLayerStore } from './fake-layer-store.ts';
import { layerStoreSuite } from './layer-store.suite.ts';

layerStoreSuite('FakeLayerStore', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hbx-fake-layers-'));
  return {
    store: new FakeLayerStore(path.join(dir, 'layers')),
    scratch: dir,
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
});
