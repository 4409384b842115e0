import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { layoutFor } from '../../core/paths.ts';
import { FileLayerStore } from './file-layer-store.ts';
import { layerStoreSuite } from './testing/layer-store.suite.ts';

layerStoreSuite('FileLayerStore', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'hbx-layers-'));
  return {
    store: new FileLayerStore({ layout: layoutFor(root) }),
    scratch: root,
    cleanup: () => fs.rmSync(root, { recursive: true, force: true }),
  };
});
