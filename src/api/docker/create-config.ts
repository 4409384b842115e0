import type { ContainerConfig, MountRequest } from '../../core/container/config.ts';
import { parseRestart, parseTmpfsFlag, parseVolumeFlag } from '../../core/container/parse.ts';
import { InvalidArgumentError } from '../../core/errors.ts';
import { parsePublish } from '../../core/network/ports.ts';
import type { Body } from './body.ts';

/**
 * `POST /containers/create`'s body (docker's Config with HostConfig and NetworkingConfig) as the engine's
 * ContainerConfig: shapes here, with the CLI's parsers for docker's strings (core/container/parse.ts); the values
 * themselves are checked by the engine at create (core/container/validate.ts), as the CLI's are.
 */
export function configFromDockerBody(b: Body): Omit<ContainerConfig, 'imageId'> {
  const image = b.str('Image');
  if (!image) throw new InvalidArgumentError('Image must be given: no image specified');
  const h = b.obj('HostConfig');
  const entrypoint = b.strings('Entrypoint', { loneString: true });
  const cmd = b.strings('Cmd', { loneString: true });
  const workingDir = b.str('WorkingDir');
  const stopTimeout = b.numOrZero('StopTimeout');
  const restart = h.obj('RestartPolicy');
  const restartName = restart.str('Name');
  const retries = restart.num('MaximumRetryCount');
  const resources: ContainerConfig['resources'] = {
    ...(h.num('Memory') !== undefined ? { memory: h.num('Memory')! } : {}),
    ...(h.num('MemorySwap') !== undefined ? { memorySwap: h.num('MemorySwap')! } : {}),
    ...(h.num('NanoCpus') !== undefined ? { nanoCpus: h.num('NanoCpus')! } : {}),
    ...(h.num('CpuShares') !== undefined ? { cpuShares: h.num('CpuShares')! } : {}),
    ...(h.str('CpusetCpus') !== undefined ? { cpusetCpus: h.str('CpusetCpus')! } : {}),
    ...((h.num('PidsLimit') ?? 0) > 0 ? { pidsLimit: h.num('PidsLimit')! } : {}),
  };
  let noNewPrivileges = false;
  let seccomp: 'default' | 'unconfined' = 'default';
  for (const opt of h.strings('SecurityOpt') ?? []) {
    if (/^no-new-privileges([:=]true)?$/.test(opt)) noNewPrivileges = true;
    else if (/^seccomp[:=]unconfined$/.test(opt)) seccomp = 'unconfined';
    else throw new InvalidArgumentError(`HostConfig.SecurityOpt: unsupported option "${opt}"`);
  }
  return {
    image,
    ...(entrypoint !== undefined
      ? { entrypoint: entrypoint.length === 1 && entrypoint[0] === '' ? [] : entrypoint }
      : {}),
    ...(cmd !== undefined && cmd.length > 0 ? { cmd } : {}),
    env: b.strings('Env') ?? [],
    ...(workingDir !== undefined ? { workingDir } : {}),
    ...(b.str('User') !== undefined ? { user: b.str('User')! } : {}),
    ...(b.str('Hostname') !== undefined ? { hostname: b.str('Hostname')! } : {}),
    labels: b.map('Labels'),
    tty: b.bool('Tty'),
    openStdin: b.bool('OpenStdin'),
    readOnly: h.bool('ReadonlyRootfs'),
    init: h.bool('Init'),
    ...(b.str('StopSignal') !== undefined ? { stopSignal: b.str('StopSignal')! } : {}),
    ...(stopTimeout !== undefined ? { stopTimeout } : {}),
    autoRemove: h.bool('AutoRemove'),
    restart: parseRestart(
      restartName === undefined || restartName === 'no'
        ? undefined
        : restartName === 'on-failure' && retries
          ? `on-failure:${retries}`
          : restartName,
    ),
    ...networking(b, h),
    privileged: h.bool('Privileged'),
    capAdd: h.strings('CapAdd') ?? [],
    capDrop: h.strings('CapDrop') ?? [],
    noNewPrivileges,
    seccomp,
    mounts: mounts(h),
    resources,
    ulimits: h.list('Ulimits').map((u) => {
      const name = u.str('Name');
      if (!name) throw new InvalidArgumentError('HostConfig.Ulimits: every entry needs a Name');
      return { name, soft: u.numOrZero('Soft') ?? 0, hard: u.numOrZero('Hard') ?? 0 };
    }),
    ...logConfig(h),
  };
}

/** HostConfig.LogConfig `{Type, Config}`; an empty Type is the daemon's default (the engine fills it in at create). */
function logConfig(h: Body): Pick<ContainerConfig, 'logConfig'> {
  const lc = h.obj('LogConfig');
  const type = lc.str('Type') ?? '';
  const config = lc.map('Config');
  return type === '' && Object.keys(config).length === 0 ? {} : { logConfig: { type, config } };
}

function mounts(h: Body): MountRequest[] {
  const out: MountRequest[] = (h.strings('Binds') ?? []).map(parseVolumeFlag);
  for (const m of h.list('Mounts')) {
    const type = m.str('Type') ?? 'volume';
    const target = m.str('Target');
    if (!target) throw new InvalidArgumentError('HostConfig.Mounts: every mount needs a Target');
    const readOnly = m.bool('ReadOnly');
    if (type === 'bind') {
      const source = m.str('Source');
      if (!source)
        throw new InvalidArgumentError(`HostConfig.Mounts: the bind mount on ${target} needs a Source`);
      out.push({ type: 'bind', source, target, readOnly });
    } else if (type === 'volume') {
      out.push({ type: 'volume', source: m.str('Source') ?? '', target, readOnly });
    } else if (type === 'tmpfs') {
      const size = m.obj('TmpfsOptions').num('SizeBytes');
      out.push({ type: 'tmpfs', target, ...(size !== undefined ? { size } : {}) });
    } else {
      throw new InvalidArgumentError(`HostConfig.Mounts: unsupported mount type "${type}" on ${target}`);
    }
  }
  for (const [target, opts] of Object.entries(h.map('Tmpfs'))) {
    out.push(parseTmpfsFlag(opts ? `${target}:${opts}` : target));
  }
  return out;
}

function networking(
  b: Body,
  h: Body,
): Pick<
  ContainerConfig,
  'networkMode' | 'networkContainer' | 'networks' | 'publish' | 'publishAll' | 'dns' | 'extraHosts'
> {
  const mode = h.str('NetworkMode') ?? 'default';
  const extras = {
    ...(h.strings('Dns')?.length ? { dns: h.strings('Dns')! } : {}),
    ...(h.strings('ExtraHosts')?.length ? { extraHosts: h.strings('ExtraHosts')! } : {}),
  };
  if (mode.startsWith('container:')) {
    const target = mode.slice('container:'.length);
    if (!target)
      throw new InvalidArgumentError('HostConfig.NetworkMode container: needs a container name or id');
    return { networkMode: 'container', networkContainer: target };
  }
  if (mode === 'none' || mode === 'host') return { networkMode: mode, ...extras };
  const network = mode === 'default' ? 'bridge' : mode;
  const endpoints = b.obj('NetworkingConfig').obj('EndpointsConfig');
  // The docker CLI names the default network's endpoint "default" (its NetworkMode), others by name.
  const key = [mode, network].find((k) => endpoints.keys().includes(k));
  const ep = key !== undefined ? endpoints.obj(key) : undefined;
  const ip = ep?.obj('IPAMConfig').str('IPv4Address');
  const mac = ep?.str('MacAddress');
  const aliases = ep?.strings('Aliases') ?? [];
  const publish = Object.entries(portBindings(h)).flatMap(([port, bindings]) =>
    bindings.flatMap((bind) => {
      const hostPart = bind.port
        ? `${bind.ip ? `${bind.ip}:` : ''}${bind.port}:`
        : bind.ip
          ? `${bind.ip}::`
          : '';
      return parsePublish(`${hostPart}${port}`);
    }),
  );
  return {
    networkMode: 'bridge',
    networks: [
      { network, ...(ip ? { ip } : {}), ...(mac ? { mac } : {}), ...(aliases.length ? { aliases } : {}) },
    ],
    ...(publish.length ? { publish } : {}),
    ...(h.bool('PublishAllPorts') ? { publishAll: true } : {}),
    ...extras,
  };
}

/** HostConfig.PortBindings: `{"80/tcp": [{"HostIp": "", "HostPort": "8080"}]}`. */
function portBindings(h: Body): Record<string, Array<{ ip: string; port: string }>> {
  const pb = h.obj('PortBindings');
  const out: Record<string, Array<{ ip: string; port: string }>> = {};
  for (const port of pb.keys()) {
    const list = pb.list(port);
    out[port] = (list.length ? list : [undefined]).map((x) => ({
      ip: x?.str('HostIp') ?? '',
      port: x?.str('HostPort') ?? '',
    }));
  }
  return out;
}
