import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CannotExecuteError, CommandNotFoundError, InternalError } from '../../core/errors.ts';
import { classifyStartFailure, runcMessage } from './runc-errors.ts';

const line = (msg: string) => `time="2026-01-01T00:00:00Z" level=error msg="${msg.replace(/"/g, '\\"')}"\n`;

describe('runc failure classification', () => {
  it('extracts logrus messages and keeps other text as is', () => {
    assert.equal(runcMessage(line('runc create failed: "x" broke')), 'runc create failed: "x" broke');
    assert.equal(runcMessage('plain failure\n'), 'plain failure');
  });

  it('maps a missing executable to CommandNotFound (127)', () => {
    const notInPath = line(
      'runc create failed: unable to start container process: exec: "nope": executable file not found in $PATH',
    );
    const absent = line(
      'runc create failed: unable to start container process: exec: "/x": stat /x: no such file or directory',
    );
    assert.ok(classifyStartFailure(notInPath, 'create') instanceof CommandNotFoundError);
    assert.ok(classifyStartFailure(absent, 'create') instanceof CommandNotFoundError);
  });

  it('maps a non-executable file to CannotExecute (126)', () => {
    const denied = line(
      'runc create failed: unable to start container process: exec: "/etc/passwd": permission denied',
    );
    const err = classifyStartFailure(denied, 'cannot create container c1');
    assert.ok(err instanceof CannotExecuteError);
    assert.match(err.message, /^cannot create container c1: .*\/etc\/passwd/);
  });

  it('keeps other failures internal, even when they mention a missing file', () => {
    const mount = line(
      'runc create failed: unable to start container process: error during container init: error mounting "/nope" to rootfs at "/data": stat /nope: no such file or directory',
    );
    assert.ok(classifyStartFailure(mount, 'create') instanceof InternalError);
  });
});
