import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ErrorCode, HyperboxError } from '../core/errors.ts';
import { httpStatusFor, scrubHostPaths } from './errors.ts';
import { Router } from './router.ts';

describe('api router', () => {
  const r = new Router();
  const h = (name: string) => () => {
    void name;
  };
  r.add('GET', '/containers/json', h('list'));
  r.add('GET', '/containers/:id/json', h('inspect'));
  r.add('HEAD', '/containers/:id/archive', h('stat'));
  r.add('GET', '/containers/:id/archive', h('get'));
  r.add('GET', '/images/*name/json', h('image'));
  r.add('DELETE', '/images/*name', h('rmi'));

  it('matches fixed segments first-come and captures parameters', () => {
    assert.deepEqual(r.match('GET', '/containers/json').params, {});
    assert.deepEqual(r.match('GET', '/containers/abc/json').params, { id: 'abc' });
  });

  it('captures image names with slashes and colons; decodes them', () => {
    assert.deepEqual(r.match('GET', '/images/127.0.0.1:5000/app/web:1/json').params, {
      name: '127.0.0.1:5000/app/web:1',
    });
    assert.deepEqual(r.match('DELETE', '/images/library%2Fbusybox:latest').params, {
      name: 'library/busybox:latest',
    });
  });

  it('HEAD prefers its own route and falls back to GET', () => {
    assert.equal(
      r.match('HEAD', '/containers/x/archive').handler,
      r.match('HEAD', '/containers/x/archive').handler,
    );
    assert.notEqual(
      r.match('HEAD', '/containers/x/archive').handler,
      r.match('GET', '/containers/x/archive').handler,
    );
    assert.equal(r.match('HEAD', '/containers/x/json').params.id, 'x');
  });

  it("a malformed percent-encoding is the client's error (400), not a 500", () => {
    for (const bad of ['/containers/%ff/json', '/containers/%zz/json', '/images/a/%e2%82/json']) {
      assert.throws(
        () => r.match('GET', bad),
        (e: unknown) =>
          e instanceof HyperboxError &&
          e.code === 'InvalidArgument' &&
          /malformed percent-encoding/.test(e.message),
        bad,
      );
    }
  });

  it('an unknown path or method is NotFound', () => {
    assert.throws(() => r.match('GET', '/nothing'), /page not found/);
    assert.throws(() => r.match('POST', '/containers/json'), /page not found/);
  });

  it("translates every error code to docker's status", () => {
    const expected: Record<ErrorCode, number> = {
      NotFound: 404,
      AlreadyExists: 409,
      Conflict: 409,
      FailedPrecondition: 409,
      InvalidArgument: 400,
      Unauthenticated: 401,
      NotImplemented: 501,
      Unavailable: 503,
      ResourceExhausted: 507,
      CommandNotFound: 500,
      CannotExecute: 500,
      Internal: 500,
    };
    for (const [code, status] of Object.entries(expected))
      assert.equal(httpStatusFor(code as ErrorCode), status, code);
  });

  it('error messages never show the state root or a /proc path of the host', () => {
    const roots = ['/tmp/hbx-test-x', '/tmp/hbx-test-x/run'];
    assert.equal(
      scrubHostPaths("ENAMETOOLONG: name too long, mkdir '/tmp/hbx-test-x/volumes/aaa'", roots),
      "ENAMETOOLONG: name too long, mkdir '<state root>/volumes/aaa'",
    );
    assert.equal(
      scrubHostPaths('lstat /proc/4242/root/etc/nothing: no such file or directory', roots),
      'lstat /etc/nothing: no such file or directory',
    );
    assert.equal(scrubHostPaths('could not find /proc/self/root', roots), 'could not find /');
    assert.equal(scrubHostPaths('no such container: web', roots), 'no such container: web');
  });
});
