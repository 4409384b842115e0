import { z } from 'zod';
import type { ContainerEngine } from '../../engine/api/containers.ts';
import type { EventEngine } from '../../engine/api/events.ts';
import type { HostEngine } from '../../engine/api/host.ts';
import type { ImageEngine } from '../../engine/api/images.ts';
import type { NetworkEngine } from '../../engine/api/networks.ts';
import type { VmEngine } from '../../engine/api/vms.ts';
import type { VolumeEngine } from '../../engine/api/volumes.ts';
import type { Expect, Same } from './same-type.ts';

/**
 * The native API's request bodies and queries: each schema validates requests (strictly: unknown fields are
 * refused) and is the source of /openapi.json (openapi.ts), so the document cannot drift from what is checked.
 * Shapes are the engine's own (engine/*.ts), so that hyperbox's client carries them as they are.
 */

const stringMap = z.record(z.string(), z.string());
const int = z.number().int();
const flag = z.enum(['true', 'false']).transform((v) => v === 'true');

const mount = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('bind'),
    source: z.string().min(1),
    target: z.string().min(1),
    readOnly: z.boolean(),
    propagation: z.string().optional(),
    createHostPath: z.boolean().optional(),
  }),
  z.strictObject({
    type: z.literal('volume'),
    source: z.string(),
    target: z.string().min(1),
    readOnly: z.boolean(),
  }),
  z.strictObject({
    type: z.literal('tmpfs'),
    target: z.string().min(1),
    size: int.nonnegative().optional(),
    mode: int.nonnegative().optional(),
    options: z.array(z.string()).optional(),
  }),
]);

/** A port to publish: host address and port (0: any free one) to the workload's port. */
const portRequest = z.strictObject({
  hostIp: z.string(),
  hostPort: int.min(0).max(65535),
  containerPort: int.min(1).max(65535),
  proto: z.enum(['tcp', 'udp']),
});

/** A path on the daemon's host: absolute, since the daemon's working directory is not the client's. */
const hostPath = z.string().regex(/^\//, 'must be an absolute path');

/** engine's ContainerConfig without imageId (create resolves `image`). */
export const ContainerConfig = z.strictObject({
  image: z.string().min(1),
  entrypoint: z.array(z.string()).optional(),
  cmd: z.array(z.string()).optional(),
  env: z.array(z.string()),
  workingDir: z.string().optional(),
  user: z.string().optional(),
  hostname: z.string().optional(),
  labels: stringMap,
  tty: z.boolean(),
  openStdin: z.boolean(),
  readOnly: z.boolean(),
  init: z.boolean(),
  stopSignal: z.string().optional(),
  stopTimeout: int.optional(),
  autoRemove: z.boolean(),
  restart: z.strictObject({
    name: z.enum(['no', 'on-failure', 'always', 'unless-stopped']),
    maximumRetryCount: int.nonnegative(),
  }),
  networkMode: z.enum(['none', 'host', 'loopback', 'bridge', 'container']),
  networkContainer: z.string().optional(),
  networks: z
    .array(
      z.strictObject({
        network: z.string().min(1),
        ip: z.string().optional(),
        mac: z.string().optional(),
        aliases: z.array(z.string()).optional(),
      }),
    )
    .optional(),
  publish: z.array(portRequest).optional(),
  publishAll: z.boolean().optional(),
  dns: z.array(z.string()).optional(),
  extraHosts: z.array(z.string()).optional(),
  privileged: z.boolean(),
  capAdd: z.array(z.string()),
  capDrop: z.array(z.string()),
  noNewPrivileges: z.boolean(),
  seccomp: z.enum(['default', 'unconfined']),
  mounts: z.array(mount),
  // Shapes only: the values are checked at create (core/container/validate.ts), in docker's words, for every transport.
  resources: z.strictObject({
    memory: int.optional(),
    memorySwap: int.optional(),
    nanoCpus: int.optional(),
    cpuShares: int.optional(),
    cpusetCpus: z.string().optional(),
    pidsLimit: int.optional(),
  }),
  ulimits: z.array(z.strictObject({ name: z.string().min(1), soft: int, hard: int })),
  logConfig: z.strictObject({ type: z.string(), config: stringMap }).optional(),
});

export const ContainerCreate = z.strictObject({
  name: z.string().min(1).optional(),
  platform: z.string().min(1).optional(),
  config: ContainerConfig,
});
export const ContainerStop = z.strictObject({
  timeoutSeconds: int.min(-1).optional(),
  signal: z.string().optional(),
});
export const ContainerKill = z.strictObject({ signal: z.string().optional() });
export const ContainerRestart = z.strictObject({ timeoutSeconds: int.min(-1).optional() });
export const ContainerRename = z.strictObject({ name: z.string().min(1) });
export const ContainerTop = z.strictObject({ psArgs: z.array(z.string()) });
export const ContainerStats = z.strictObject({ ids: z.array(z.string().min(1)) });
export const ContainerGetQuery = z.strictObject({ require: z.literal('running').optional() });
export const ContainerRemoveQuery = z.strictObject({ force: flag.optional(), volumes: flag.optional() });
/** Times as docker's API takes them: Unix seconds with an optional fraction (nanoseconds). */
const unixTime = z.string().regex(/^\d+(\.\d{1,20})?$/, 'must be a Unix timestamp: <seconds>[.<fraction>]');
export const ContainerLogsQuery = z.strictObject({
  follow: flag.optional(),
  tail: z.string().regex(/^\d+$/).transform(Number).optional(),
  since: unixTime.optional(),
  until: unixTime.optional(),
  timestamps: flag.optional(),
  details: flag.optional(),
});

export const ImageRefQuery = z.strictObject({ ref: z.string().min(1) });
export const ImageListQuery = z.strictObject({ all: flag.optional() });
export const ImageImport = z.strictObject({
  source: z.string().min(1),
  ref: z.string().min(1).optional(),
  changes: z.array(z.string()),
  message: z.string().optional(),
});
/** An import whose tar is the request body (`import -`): the other fields travel in the query. */
export const ImageImportStreamQuery = z.strictObject({
  ref: z.string().min(1).optional(),
  /** A JSON array of Dockerfile instructions. */
  changes: z.string().optional(),
  message: z.string().optional(),
});
export const ImageChanges = z.array(z.string());
export const ImageSaveQuery = z.strictObject({
  refs: z.string().min(1),
  format: z.enum(['docker-archive', 'oci-archive']),
});
export const ImagePull = z.strictObject({
  ref: z.string().min(1),
  platform: z.string().optional(),
  allTags: z.boolean().optional(),
  tlsVerify: z.boolean().optional(),
});
export const ImagePush = z.strictObject({ ref: z.string().min(1), tlsVerify: z.boolean().optional() });
export const ImageTag = z.strictObject({ source: z.string().min(1), target: z.string().min(1) });
export const ImageRemove = z.strictObject({ ref: z.string().min(1), force: z.boolean() });
export const ImagePrune = z.strictObject({ all: z.boolean() });

export const VolumeCreate = z.strictObject({
  name: z.string().min(1).optional(),
  driver: z.string().optional(),
  labels: stringMap.optional(),
  options: stringMap.optional(),
});
export const VolumeListQuery = z.strictObject({
  /** JSON: {"dangling"?: boolean, "name"?: [substring...], "label"?: ["key[=value]"...]}. */
  filters: z.string().optional(),
});
export const VolumeFilters = z.strictObject({
  dangling: z.boolean().optional(),
  name: z.array(z.string()).optional(),
  label: z.array(z.string()).optional(),
});
export const VolumeRemoveQuery = z.strictObject({ force: flag.optional() });
export const VolumePrune = z.strictObject({ all: z.boolean().optional() });

export const NetworkCreate = z.strictObject({
  name: z.string().min(1),
  driver: z.string().optional(),
  subnet: z.string().optional(),
  gateway: z.string().optional(),
  ipRange: z.string().optional(),
  internal: z.boolean().optional(),
  options: stringMap.optional(),
  labels: stringMap.optional(),
});
export const NetworkConnect = z.strictObject({
  container: z.strictObject({ id: z.string().min(1), name: z.string().min(1) }),
  ip: z.string().optional(),
  mac: z.string().optional(),
  aliases: z.array(z.string()).optional(),
});
export const NetworkDisconnect = z.strictObject({ containerId: z.string().min(1) });

export const EventsQuery = z.strictObject({
  after: z.string().regex(/^\d+$/).transform(Number).optional(),
  /** The engine's EventFilter as JSON, times as decimal nanosecond strings. */
  filter: z.string().optional(),
});
export const EventFilter = z.strictObject({
  since: z.string().regex(/^\d+$/).transform(BigInt).optional(),
  until: z.string().regex(/^\d+$/).transform(BigInt).optional(),
  type: z.array(z.string()).optional(),
  action: z.array(z.string()).optional(),
  container: z.array(z.string()).optional(),
  image: z.array(z.string()).optional(),
});

export const VmStop = z.strictObject({ timeSeconds: int.nonnegative().optional() });
/** core/vm/config.ts's VmConfig; the engine validates it fully again (names, sizes, CPU lists, addresses). */
export const VmCreate = z.strictObject({
  config: z.strictObject({
    /** Absent: the engine generates one. */
    name: z.string().min(1).optional(),
    hostname: z.string().min(1).optional(),
    cpus: int.positive(),
    memoryBytes: int.positive(),
    diskBytes: int.nonnegative(),
    memoryPrealloc: z.boolean(),
    cpuPinning: z.union([z.literal('auto'), z.array(int.nonnegative())]),
    boot: z.discriminatedUnion('kind', [
      z.strictObject({
        kind: z.literal('kernel'),
        kernel: hostPath,
        initrd: hostPath.optional(),
        append: z.string().optional(),
      }),
      z.strictObject({ kind: z.literal('image'), image: z.string().min(1) }),
    ]),
    machine: z.enum(['microvm', 'q35']),
    networks: z.array(z.strictObject({ network: z.string().min(1), ip: z.string().optional() })),
    publish: z.array(portRequest),
    cloudInit: z.string().optional(),
    sshKeys: z.array(z.string()),
  }),
});
export const VmDiskResize = z.strictObject({ bytes: int.positive() });
export const VmSnapshotCreate = z.strictObject({ name: z.string().min(1) });
export const VmLogsQuery = z.strictObject({ follow: flag.optional() });
export const VmImageImport = z.strictObject({ file: hostPath, name: z.string().min(1) });
export const HostQuery = z.strictObject({ probe: flag.optional() });
/** `plan`'s flags as the CLI takes them (`cpus=2,memory=4G,disk=20G`); absent: engine.json's or the defaults. */
export const PlanRequest = z.strictObject({
  host: z.string().optional(),
  vm: z.string().optional(),
  reserve: z.string().optional(),
  overcommit: z.string().optional(),
  container: z.string().optional(),
});
export const VmRemoveQuery = z.strictObject({ force: flag.optional() });

/**
 * Each schema parses to exactly what the engine's interface takes (engine/api): a field added, dropped or retyped
 * on either side fails `tsc` here, so the API cannot drift from the engine unseen. What travels otherwise (a
 * header's credentials, the body stream, an abort signal) is left out of the engine's side.
 */
type Arg<F extends (...args: never[]) => unknown, N extends number = 0> = NonNullable<Parameters<F>[N]>;
type Out<S extends z.ZodType> = z.output<S>;
export type SchemaChecks = [
  Expect<Same<Out<typeof ContainerCreate>, Arg<ContainerEngine['create']>>>,
  Expect<Same<Out<typeof ContainerStop>, Arg<ContainerEngine['stop'], 1>>>,
  Expect<Same<Out<typeof ContainerRestart>, Arg<ContainerEngine['restart'], 1>>>,
  Expect<Same<Out<typeof ContainerRemoveQuery>, Arg<ContainerEngine['remove'], 1>>>,
  Expect<Same<Out<typeof ContainerLogsQuery>, Partial<Omit<Arg<ContainerEngine['logs'], 1>, 'signal'>>>>,
  Expect<
    Same<
      Out<typeof ImageImport>,
      { source: string; ref?: string } & Omit<Arg<ImageEngine['importRootfs'], 2>, 'stdin'>
    >
  >,
  Expect<
    Same<
      Out<typeof ImagePull>,
      { ref: string } & Omit<Arg<ImageEngine['pull'], 1>, 'onProgress' | 'signal' | 'credentials'>
    >
  >,
  Expect<
    Same<
      Out<typeof ImagePush>,
      { ref: string } & Omit<Arg<ImageEngine['push'], 1>, 'onProgress' | 'credentials'>
    >
  >,
  Expect<Same<Out<typeof ImageRemove>, { ref: string } & Arg<ImageEngine['remove'], 1>>>,
  Expect<Same<Out<typeof ImagePrune>, Arg<ImageEngine['prune']>>>,
  Expect<Same<Out<typeof VolumeCreate>, Arg<VolumeEngine['create']>>>,
  Expect<Same<Out<typeof VolumeFilters>, Arg<VolumeEngine['list']>>>,
  Expect<Same<Out<typeof VolumeRemoveQuery>, Arg<VolumeEngine['remove'], 1>>>,
  Expect<Same<Out<typeof VolumePrune>, Arg<VolumeEngine['prune']>>>,
  Expect<Same<Out<typeof NetworkCreate>, Arg<NetworkEngine['create']>>>,
  Expect<
    Same<
      Out<typeof NetworkConnect>,
      { container: Arg<NetworkEngine['connect'], 1> } & Arg<NetworkEngine['connect'], 2>
    >
  >,
  Expect<Same<Out<typeof EventFilter>, Arg<EventEngine['list']>>>,
  Expect<Same<Out<typeof VmCreate>, Arg<VmEngine['create']>>>,
  Expect<Same<Out<typeof VmStop>, Arg<VmEngine['stop'], 1>>>,
  Expect<Same<Out<typeof VmRemoveQuery>, Arg<VmEngine['remove'], 1>>>,
  Expect<Same<Out<typeof HostQuery>, Arg<HostEngine['report']>>>,
  Expect<Same<Out<typeof PlanRequest>, Arg<HostEngine['plan']>>>,
];
