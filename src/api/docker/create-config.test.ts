import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Body } from './body.ts';
import { configFromDockerBody } from './create-config.ts';

describe('docker create body -> ContainerConfig', () => {
  it('reads what docker run -d -p 8080:80 -v /h:/c:ro -e A=1 --rm --memory 64m sends', () => {
    const c = configFromDockerBody(
      new Body({
        Image: 'busybox',
        Cmd: ['sh', '-c', 'echo hi'],
        Entrypoint: null,
        Env: ['A=1'],
        Tty: false,
        OpenStdin: false,
        Labels: { tier: 'web' },
        StopTimeout: 0,
        ExposedPorts: { '80/tcp': {} },
        HostConfig: {
          AutoRemove: true,
          NetworkMode: 'default',
          PortBindings: { '80/tcp': [{ HostIp: '', HostPort: '8080' }] },
          Binds: ['/h:/c:ro'],
          Memory: 64 * 1024 * 1024,
          NanoCpus: 0,
          RestartPolicy: { Name: 'no', MaximumRetryCount: 0 },
          Ulimits: [{ Name: 'nofile', Soft: 1024, Hard: 2048 }],
        },
        NetworkingConfig: { EndpointsConfig: {} },
      }),
    );
    assert.equal(c.image, 'busybox');
    assert.deepEqual(c.cmd, ['sh', '-c', 'echo hi']);
    assert.equal(c.entrypoint, undefined, 'null is "use the image\'s"');
    assert.deepEqual(c.env, ['A=1']);
    assert.equal(c.stopTimeout, 0, 'a zero stop timeout is a real value');
    assert.equal(c.autoRemove, true);
    assert.equal(c.networkMode, 'bridge');
    assert.deepEqual(c.networks, [{ network: 'bridge' }]);
    assert.deepEqual(c.publish, [{ hostIp: '0.0.0.0', hostPort: 8080, containerPort: 80, proto: 'tcp' }]);
    assert.deepEqual(c.mounts, [
      { type: 'bind', source: '/h', target: '/c', readOnly: true, createHostPath: true },
    ]);
    assert.equal(c.resources.memory, 64 * 1024 * 1024);
    assert.equal(c.resources.nanoCpus, undefined, 'zero means unset');
    assert.deepEqual(c.restart, { name: 'no', maximumRetryCount: 0 });
    assert.deepEqual(c.ulimits, [{ name: 'nofile', soft: 1024, hard: 2048 }]);
    assert.deepEqual(c.labels, { tier: 'web' });
  });

  it('network modes: none, host, container:NAME, a user network with an address', () => {
    const mode = (hc: object, extra: object = {}) =>
      configFromDockerBody(new Body({ Image: 'x', HostConfig: hc, ...extra }));
    assert.equal(mode({ NetworkMode: 'none' }).networkMode, 'none');
    assert.equal(mode({ NetworkMode: 'host' }).networkMode, 'host');
    assert.deepEqual(
      {
        m: mode({ NetworkMode: 'container:web' }).networkMode,
        c: mode({ NetworkMode: 'container:web' }).networkContainer,
      },
      { m: 'container', c: 'web' },
    );
    const user = mode(
      { NetworkMode: 'appnet' },
      {
        NetworkingConfig: {
          EndpointsConfig: { appnet: { IPAMConfig: { IPv4Address: '10.9.0.5' }, Aliases: ['db'] } },
        },
      },
    );
    assert.deepEqual(user.networks, [{ network: 'appnet', ip: '10.9.0.5', aliases: ['db'] }]);
  });

  it('refuses wrong types and a missing image, naming the field', () => {
    assert.throws(() => configFromDockerBody(new Body({})), /Image must be given/);
    assert.throws(
      () => configFromDockerBody(new Body({ Image: 'x', Tty: 'yes' })),
      /Tty must be a boolean, not "yes"/,
    );
    assert.throws(
      () => configFromDockerBody(new Body({ Image: 'x', HostConfig: { Memory: '1g' } })),
      /HostConfig\.Memory must be a number/,
    );
    assert.throws(
      () =>
        configFromDockerBody(
          new Body({ Image: 'x', HostConfig: { Mounts: [{ Type: 'npipe', Target: '/x' }] } }),
        ),
      /unsupported mount type "npipe"/,
    );
  });

  it('reads the endpoint of the default network under the name the docker CLI gives it ("default")', () => {
    const c = configFromDockerBody(
      new Body({
        Image: 'x',
        HostConfig: { NetworkMode: 'default' },
        NetworkingConfig: { EndpointsConfig: { default: { IPAMConfig: { IPv4Address: '172.17.0.99' } } } },
      }),
    );
    assert.deepEqual(c.networks, [{ network: 'bridge', ip: '172.17.0.99' }]);
  });

  it('leaves the values to the engine: a relative WorkingDir or NanoCpus < 0 are refused at create', () => {
    const c = configFromDockerBody(
      new Body({ Image: 'x', WorkingDir: 'rel', HostConfig: { NanoCpus: -1, Dns: ['x'] } }),
    );
    assert.equal(c.workingDir, 'rel');
    assert.equal(c.resources.nanoCpus, -1);
    assert.deepEqual(c.dns, ['x']);
  });
});
