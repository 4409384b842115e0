import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgumentError } from '../errors.ts';
import { parseCopyArgs } from './copy-args.ts';

describe('parseCopyArgs', () => {
  it('tells the four directions apart', () => {
    assert.deepEqual(parseCopyArgs('web:/etc/hosts', '/tmp/h'), {
      kind: 'from-container',
      from: { container: 'web', path: '/etc/hosts' },
      dest: '/tmp/h',
    });
    assert.deepEqual(parseCopyArgs('./a:b', 'web:'), {
      kind: 'into-container',
      src: './a:b',
      to: { container: 'web', path: '/' },
    });
    assert.deepEqual(parseCopyArgs('web:/data', '-'), {
      kind: 'tar-out',
      from: { container: 'web', path: '/data' },
    });
    assert.deepEqual(parseCopyArgs('-', 'web:/data'), {
      kind: 'tar-in',
      to: { container: 'web', path: '/data' },
    });
  });

  it('refuses two containers, or none (a tar stream is not a container)', () => {
    assert.throws(() => parseCopyArgs('a:/x', 'b:/y'), InvalidArgumentError);
    assert.throws(() => parseCopyArgs('-', '/tmp/x'), /must specify at least one container source/);
    assert.throws(() => parseCopyArgs('-', '-'), /must specify at least one container source/);
    assert.throws(() => parseCopyArgs('/a:b', '/c'), /must specify at least one container source/);
  });
});
