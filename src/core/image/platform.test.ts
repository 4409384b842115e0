import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgumentError, NotFoundError } from '../errors.ts';
import { checkImagePlatform, checkRunnableOs, foreignArchitectureWarning } from './platform.ts';

const host = { os: 'linux', architecture: 'amd64' };

describe('platforms a host can run (docker words)', () => {
  it('refuses another operating system, not another architecture', () => {
    assert.throws(
      () => checkRunnableOs('windows', host),
      (e: unknown) =>
        e instanceof InvalidArgumentError &&
        e.message === 'image operating system "windows" cannot be used on this platform',
    );
    checkRunnableOs('linux', host);
    checkRunnableOs('', host);
  });

  it("create --platform: the local image must be of it, else dockerd's 404", () => {
    assert.throws(
      () =>
        checkImagePlatform({ ref: 'busybox', want: { os: 'linux', architecture: 'arm64' }, actual: host }),
      (e: unknown) =>
        e instanceof NotFoundError &&
        e.message ===
          'image with reference busybox was found but does not match the specified platform: wanted linux/arm64, actual: linux/amd64',
    );
    checkImagePlatform({ ref: 'busybox', want: host, actual: host });
    checkImagePlatform({
      ref: 'x',
      want: { os: 'linux', architecture: 'arm64', variant: 'v8' },
      actual: { os: 'linux', architecture: 'arm64' },
    });
  });

  it('warns, as dockerd, when an image of another architecture is run without --platform', () => {
    assert.equal(foreignArchitectureWarning(host, host), undefined);
    assert.match(
      foreignArchitectureWarning({ os: 'linux', architecture: 'arm64' }, host)!,
      /^The requested image's platform \(linux\/arm64\) does not match the detected host platform \(linux\/amd64\)/,
    );
  });
});
