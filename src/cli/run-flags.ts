import fs from 'node:fs';
import os from 'node:os';
import type { Command } from 'commander';
import type { ContainerConfig, MountRequest } from '../core/container/config.ts';
import {
  parseCpus,
  parseEnv,
  parseEnvFile,
  parseInteger,
  parseLabels,
  parseMemory,
  parseMemorySwap,
  parseMountFlag,
  parseRestart,
  parseTmpfsFlag,
  parseUlimit,
  parseVolumeFlag,
} from '../core/container/parse.ts';
import { validateContainerConfig } from '../core/container/validate.ts';
import { InvalidArgumentError } from '../core/errors.ts';
import { parseLogOpts } from '../core/logs/log-config.ts';
import { parsePublish } from '../core/network/ports.ts';

const collect = (value: string, previous: string[]) => [...previous, value];

/** The flags `create` and `run` share, with docker's names and meanings. */
export function addCreateFlags(cmd: Command): Command {
  return cmd
    .option('--name <name>', 'assign a name to the container')
    .option('-e, --env <KEY=VALUE>', 'set environment variables', collect, [])
    .option('--env-file <file>', 'read in a file of environment variables', collect, [])
    .option('-w, --workdir <dir>', 'working directory inside the container')
    .option('-u, --user <user[:group]>', 'username or UID (format: <name|uid>[:<group|gid>])')
    .option('-h, --hostname <name>', 'container host name')
    .option('--entrypoint <cmd>', 'overwrite the default ENTRYPOINT of the image')
    .option('-l, --label <key=value>', 'set meta data on a container', collect, [])
    .option('-i, --interactive', 'keep STDIN open even if not attached', false)
    .option('-t, --tty', 'allocate a pseudo-TTY', false)
    .option('--read-only', "mount the container's root filesystem as read only", false)
    .option('--rm', 'automatically remove the container when it exits', false)
    .option(
      '--restart <policy>',
      'restart policy: no, on-failure[:max-retries], always, unless-stopped',
      'no',
    )
    .option(
      '--network <mode>',
      'connect a container to a network: bridge (default), NAME, none, host, container:NAME',
    )
    .option('--net <mode>', 'alias of --network')
    .option('--ip <address>', 'IPv4 address on the network (e.g. 172.30.100.104)')
    .option('--network-alias <alias>', 'add a network-scoped alias for the container', collect, [])
    .option('--mac-address <mac>', 'container MAC address (e.g. 92:d0:c6:0a:29:33)')
    .option(
      '-p, --publish <spec>',
      "publish a container's port(s) to the host: [ip:][hostPort:]containerPort[/proto]",
      collect,
      [],
    )
    .option('-P, --publish-all', 'publish all exposed ports to random ports', false)
    .option('--dns <address>', 'set custom DNS servers', collect, [])
    .option('--add-host <host:ip>', 'add a custom host-to-IP mapping (host:ip)', collect, [])
    .option('-m, --memory <bytes>', 'memory limit')
    .option('--memory-swap <bytes>', "swap limit equal to memory plus swap: '-1' to enable unlimited swap")
    .option('--cpus <number>', 'number of CPUs')
    .option('-c, --cpu-shares <int>', 'CPU shares (relative weight)')
    .option('--cpuset-cpus <list>', 'CPUs in which to allow execution (0-3, 0,1)')
    .option('--pids-limit <int>', 'tune container pids limit (set -1 for unlimited)')
    .option('--ulimit <name=soft[:hard]>', 'ulimit options', collect, [])
    .option('--cap-add <cap>', 'add Linux capabilities', collect, [])
    .option('--cap-drop <cap>', 'drop Linux capabilities', collect, [])
    .option('--privileged', 'give extended privileges to this container', false)
    .option('--security-opt <opt>', 'security options (no-new-privileges, seccomp=unconfined)', collect, [])
    .option('--init', 'run an init inside the container that forwards signals and reaps processes', false)
    .option('--stop-signal <signal>', 'signal to stop the container')
    .option('--stop-timeout <seconds>', 'timeout (in seconds) to stop a container')
    .option('-v, --volume <spec>', 'bind mount a volume', collect, [])
    .option('--mount <spec>', 'attach a filesystem mount to the container', collect, [])
    .option('--tmpfs <spec>', 'mount a tmpfs directory', collect, [])
    .option('--pull <policy>', 'pull image before running (missing, always, never)', 'missing')
    .option('--platform <platform>', 'set platform if server is multi-platform capable (os/arch[/variant])')
    .option('--log-driver <driver>', 'logging driver for the container: json-file, local, k8s-file, none')
    .option('--log-opt <key=value>', 'log driver options (max-size, max-file, compress...)', collect, []);
}

export interface CreateFlags {
  name?: string;
  env: string[];
  envFile: string[];
  workdir?: string;
  user?: string;
  hostname?: string;
  entrypoint?: string;
  label: string[];
  interactive: boolean;
  tty: boolean;
  readOnly: boolean;
  rm: boolean;
  restart: string;
  network?: string;
  net?: string;
  ip?: string;
  networkAlias: string[];
  macAddress?: string;
  publish: string[];
  publishAll: boolean;
  dns: string[];
  addHost: string[];
  memory?: string;
  memorySwap?: string;
  cpus?: string;
  cpuShares?: string;
  cpusetCpus?: string;
  pidsLimit?: string;
  ulimit: string[];
  capAdd: string[];
  capDrop: string[];
  privileged: boolean;
  securityOpt: string[];
  init: boolean;
  stopSignal?: string;
  stopTimeout?: string;
  volume: string[];
  mount: string[];
  tmpfs: string[];
  pull: string;
  platform?: string;
  logDriver?: string;
  logOpt: string[];
}

/** Turns parsed flags into the engine's request; every bad value is refused here with its name. */
export function configFromFlags(
  flags: CreateFlags,
  image: string,
  args: string[],
): Omit<ContainerConfig, 'imageId'> {
  const envFromFiles = flags.envFile.flatMap((file) => {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      throw new InvalidArgumentError(
        `open ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : String(err)}`,
      );
    }
    return parseEnvFile(text, file, process.env);
  });
  const networking = networkFromFlags(flags);
  let noNewPrivileges = false;
  let seccomp: 'default' | 'unconfined' = 'default';
  for (const opt of flags.securityOpt) {
    if (opt === 'no-new-privileges' || opt === 'no-new-privileges:true' || opt === 'no-new-privileges=true')
      noNewPrivileges = true;
    else if (opt === 'seccomp=unconfined' || opt === 'seccomp:unconfined') seccomp = 'unconfined';
    else
      throw new InvalidArgumentError(
        `invalid --security-opt: "${opt}"; supported: no-new-privileges, seccomp=unconfined`,
      );
  }
  if (!['missing', 'always', 'never'].includes(flags.pull)) {
    throw new InvalidArgumentError(
      `invalid pull option: '${flags.pull}': must be one of "always", "missing" or "never"`,
    );
  }
  const mounts: MountRequest[] = [
    ...flags.volume.map(parseVolumeFlag),
    ...flags.mount.map(parseMountFlag),
    ...flags.tmpfs.map(parseTmpfsFlag),
  ];
  const pidsLimit =
    flags.pidsLimit === undefined ? undefined : parseInteger(flags.pidsLimit, '--pids-limit', { min: -1 });
  const resources: ContainerConfig['resources'] = {
    ...(flags.memory !== undefined ? { memory: parseMemory(flags.memory, '--memory') } : {}),
    ...(flags.memorySwap !== undefined ? { memorySwap: parseMemorySwap(flags.memorySwap) } : {}),
    ...(flags.cpus !== undefined ? { nanoCpus: parseCpus(flags.cpus) } : {}),
    ...(flags.cpuShares !== undefined
      ? { cpuShares: parseInteger(flags.cpuShares, '--cpu-shares', { min: 0 }) }
      : {}),
    ...(flags.cpusetCpus !== undefined ? { cpusetCpus: flags.cpusetCpus } : {}),
    ...(pidsLimit !== undefined && pidsLimit > 0 ? { pidsLimit } : {}),
  };
  const config: Omit<ContainerConfig, 'imageId'> = {
    image,
    ...(flags.entrypoint !== undefined
      ? { entrypoint: flags.entrypoint === '' ? [] : [flags.entrypoint] }
      : {}),
    ...(args.length > 0 ? { cmd: args } : {}),
    env: [...envFromFiles, ...parseEnv(flags.env, process.env)],
    ...(flags.workdir !== undefined ? { workingDir: flags.workdir } : {}),
    ...(flags.user !== undefined ? { user: flags.user } : {}),
    ...(flags.hostname !== undefined ? { hostname: flags.hostname } : {}),
    labels: parseLabels(flags.label),
    tty: flags.tty,
    openStdin: flags.interactive,
    readOnly: flags.readOnly,
    init: flags.init,
    ...(flags.stopSignal !== undefined ? { stopSignal: flags.stopSignal } : {}),
    ...(flags.stopTimeout !== undefined
      ? { stopTimeout: parseInteger(flags.stopTimeout, '--stop-timeout', { min: -1 }) }
      : {}),
    autoRemove: flags.rm,
    restart: parseRestart(flags.restart),
    ...networking,
    privileged: flags.privileged,
    capAdd: flags.capAdd,
    capDrop: flags.capDrop,
    noNewPrivileges,
    seccomp,
    mounts,
    resources,
    ulimits: flags.ulimit.map(parseUlimit),
    // Checked, and the engine's default filled in, by the engine's create (both transports).
    ...(flags.logDriver !== undefined || flags.logOpt.length > 0
      ? { logConfig: { type: flags.logDriver ?? '', config: parseLogOpts(flags.logOpt) } }
      : {}),
  };
  // The engine checks again at create (API bodies come that way); here a bad value is refused before any pull.
  validateContainerConfig(config, { hostCpus: os.availableParallelism() });
  return config;
}

/**
 * Which network a container joins, as docker decides: docker's default `bridge` network unless --network names
 * another; `none` is a private namespace with loopback only; `host` the host's; `container:NAME` the namespace of
 * another container (which then owns ports, DNS and the hostname: flags about those conflict, as in docker).
 */
function networkFromFlags(
  flags: CreateFlags,
): Pick<
  ContainerConfig,
  'networkMode' | 'networkContainer' | 'networks' | 'publish' | 'publishAll' | 'dns' | 'extraHosts'
> {
  const publish = flags.publish.flatMap(parsePublish);
  const wantsPorts = publish.length > 0 || flags.publishAll;
  const network = flags.network ?? flags.net ?? 'bridge';
  const attachmentFlags =
    flags.ip !== undefined || flags.macAddress !== undefined || flags.networkAlias.length > 0;
  const extras = {
    ...(flags.dns.length ? { dns: flags.dns } : {}),
    ...(flags.addHost.length ? { extraHosts: flags.addHost } : {}),
  };
  if (network.startsWith('container:')) {
    const target = network.slice('container:'.length);
    if (!target) throw new InvalidArgumentError('--network container: needs a container name or id');
    const conflicts = [
      wantsPorts && 'port publishing (-p/-P)',
      flags.hostname !== undefined && '--hostname',
      flags.dns.length > 0 && '--dns',
      flags.addHost.length > 0 && '--add-host',
      attachmentFlags && '--ip/--mac-address/--network-alias',
    ].filter(Boolean);
    if (conflicts.length > 0)
      throw new InvalidArgumentError(`conflicting options: ${conflicts[0]} and the container network mode`);
    return { networkMode: 'container', networkContainer: target };
  }
  if (network === 'none' || network === 'host') {
    if (attachmentFlags) {
      throw new InvalidArgumentError(
        `--ip, --mac-address and --network-alias need a bridge network, not "${network}"`,
      );
    }
    if (wantsPorts)
      throw new InvalidArgumentError(`published ports need a bridge network: --network ${network} has none`);
    return { networkMode: network, ...extras };
  }
  return {
    networkMode: 'bridge',
    networks: [
      {
        network,
        ...(flags.ip !== undefined ? { ip: flags.ip } : {}),
        ...(flags.macAddress !== undefined ? { mac: flags.macAddress } : {}),
        ...(flags.networkAlias.length ? { aliases: flags.networkAlias } : {}),
      },
    ],
    ...(publish.length ? { publish } : {}),
    ...(flags.publishAll ? { publishAll: true } : {}),
    ...extras,
  };
}
