import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { volumeView } from './views.ts';

describe('volumeView', () => {
  it("is docker's Volume: PascalCase, seconds without a fraction, local scope", () => {
    assert.deepEqual(
      volumeView({
        name: 'data',
        driver: 'local',
        mountpoint: '/r/volumes/data/_data',
        createdAt: Date.UTC(2024, 0, 2, 3, 4, 5, 678),
        labels: { team: 'a' },
        options: {},
      }),
      {
        Name: 'data',
        Driver: 'local',
        Mountpoint: '/r/volumes/data/_data',
        CreatedAt: '2024-01-02T03:04:05Z',
        Labels: { team: 'a' },
        Scope: 'local',
        Options: {},
      },
    );
  });
});
