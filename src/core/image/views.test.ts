import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Digest } from './digest.ts';
import { imageInspectView, imageSummaryView } from './views.ts';

const id = `sha256:${'a'.repeat(64)}` as Digest;
const diffId = `sha256:${'b'.repeat(64)}` as Digest;

describe('image views', () => {
  it("inspect: docker's object, familiar names, the repo digests and the overlay lower dirs", () => {
    const v = imageInspectView({
      id,
      names: ['docker.io/library/busybox:1', 'host:5000/app:v2'],
      repoDigests: [`busybox@sha256:${'c'.repeat(64)}`],
      config: {
        architecture: 'amd64',
        os: 'linux',
        config: { Cmd: ['sh'] },
        rootfs: { type: 'layers', diff_ids: [diffId] },
        history: [{ comment: 'Imported from -' }],
      },
      size: 42,
      lowerDirs: ['/r/layers/top/diff', '/r/layers/base/diff'],
    });
    assert.equal(v.Id, id);
    assert.deepEqual(v.RepoTags, ['busybox:1', 'host:5000/app:v2']);
    assert.deepEqual(v.RepoDigests, [`busybox@sha256:${'c'.repeat(64)}`]);
    assert.equal(v.Comment, 'Imported from -');
    assert.equal(v.Created, '0001-01-01T00:00:00Z');
    assert.deepEqual(v.Config.Cmd, ['sh']);
    assert.deepEqual(v.GraphDriver, {
      Name: 'overlay',
      Data: { LowerDir: '/r/layers/top/diff:/r/layers/base/diff' },
    });
    assert.deepEqual(v.RootFS, { Type: 'layers', Layers: [diffId] });
  });

  it("summary: docker's list row", () => {
    assert.deepEqual(
      imageSummaryView({ id, repoTags: ['a:1'], repoDigests: [], created: 7, size: 9, containers: 2 }),
      {
        Id: id,
        ParentId: '',
        RepoTags: ['a:1'],
        RepoDigests: [],
        Created: 7,
        Size: 9,
        SharedSize: -1,
        VirtualSize: 9,
        Labels: {},
        Containers: 2,
      },
    );
  });
});
