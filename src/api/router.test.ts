import assert from 'node:assert/strict';
import http from 'node:http';
import { describe, it } from 'node:test';
import { type ErrorCode, HyperboxError } from '../core/errors.ts';
import { httpStatusFor, scrubHostPaths, sendError } from './errors.ts';
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

  it('error messages never show the state root; a container path the user gave comes back as given', () => {
    const roots = ['/tmp/hbx-test-x', '/tmp/hbx-test-x/run'];
    assert.equal(
      scrubHostPaths("ENAMETOOLONG: name too long, mkdir '/tmp/hbx-test-x/volumes/aaa'", roots),
      "ENAMETOOLONG: name too long, mkdir '<state root>/volumes/aaa'",
    );
    assert.equal(
      scrubHostPaths('Could not find the file /proc/self/root in container web', roots),
      'Could not find the file /proc/self/root in container web',
    );
    assert.equal(scrubHostPaths('no such container: web', roots), 'no such container: web');
  });

  it('a raw system error on a path is 404 or 400 with its message scrubbed, not a 500', async () => {
    const enoent = Object.assign(
      new Error("ENOENT: no such file or directory, lstat '/tmp/r/containers/x'"),
      {
        code: 'ENOENT',
      },
    );
    const loop = Object.assign(new Error('ELOOP: too many symbolic links'), { code: 'ELOOP' });
    assert.deepEqual(await answer(enoent, ['/tmp/r']), {
      status: 404,
      message: "ENOENT: no such file or directory, lstat '<state root>/containers/x'",
    });
    assert.equal((await answer(loop, [])).status, 400);
    assert.equal((await answer(new Error('boom'), [])).status, 500);
  });
});

/** What sendError answers for `err`: status and message, through a real server on loopback. */
function answer(err: unknown, hostRoots: string[]): Promise<{ status: number; message: string }> {
  return new Promise((resolve) => {
    const server = http.createServer((_req, res) => sendError(res, err, { hostRoots }));
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      http.get({ host: '127.0.0.1', port }, (res) => {
        let body = '';
        res.on('data', (c) => {
          body += c;
        });
        res.on('end', () => {
          server.close();
          resolve({
            status: res.statusCode ?? 0,
            message: (JSON.parse(body) as { message: string }).message,
          });
        });
      });
    });
  });
}
