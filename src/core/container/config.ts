/**
 * What a user asked for when creating a container (the merged result of `create`/`run` flags, before the image's
 * defaults are applied). Persisted as JSON in the containers table; the OCI runtime spec is derived from it
 * (plus the image config) by core/container/spec.ts at every start, so it is never stored twice.
 */
export interface ContainerConfig {
  image: string; // the reference the user typed, e.g. "busybox:1"
  imageId: string; // sha256:<hex> of the image config it resolved to at create time
  /** Undefined means "use the image's": docker's rule for Entrypoint and Cmd. An empty array clears it. */
  entrypoint?: string[];
  cmd?: string[];
  env: string[]; // KEY=VALUE, user values only; the image's env is merged in at spec time
  workingDir?: string;
  user?: string; // user[:group], names or ids, resolved against the image's /etc/passwd and /etc/group
  hostname?: string;
  labels: Record<string, string>;
  tty: boolean;
  openStdin: boolean; // -i
  readOnly: boolean;
  init: boolean;
  stopSignal?: string; // e.g. SIGTERM (default: image's StopSignal, else SIGTERM)
  stopTimeout?: number; // seconds (default 10)
  autoRemove: boolean; // --rm
  restart: RestartPolicy;
  /**
   * none/loopback: a private network namespace with only `lo`; host: the host's; bridge: attached to the hyperbox
   * networks in `networks` (docker's default `bridge` when empty) through the network layer; container: joins the
   * network namespace of the container `networkContainer` (docker's `--network container:NAME`), which must run.
   */
  networkMode: 'none' | 'host' | 'loopback' | 'bridge' | 'container';
  /** Full id of the container whose network namespace `container` mode joins (resolved at create, as docker). */
  networkContainer?: string;
  networks?: Array<{ network: string; ip?: string; mac?: string; aliases?: string[] }>;
  /** Parsed -p values (core/network/ports.ts); -P adds every EXPOSEd port at start. */
  publish?: Array<{ hostIp: string; hostPort: number; containerPort: number; proto: 'tcp' | 'udp' }>;
  publishAll?: boolean;
  dns?: string[];
  extraHosts?: string[];
  privileged: boolean;
  capAdd: string[]; // CAP_ names, or ALL
  capDrop: string[];
  noNewPrivileges: boolean;
  /** The default seccomp profile, or none (`--security-opt seccomp=unconfined`; --privileged also disables it). */
  seccomp: 'default' | 'unconfined';
  mounts: MountRequest[];
  resources: Resources;
  ulimits: Ulimit[];
  /**
   * docker's HostConfig.LogConfig. In a request the type may be empty (the engine's default); a stored container's
   * is complete and validated (core/logs/log-config.ts). Absent on containers from before log drivers: k8s-file.
   */
  logConfig?: { type: string; config: Record<string, string> };
}

export interface RestartPolicy {
  name: 'no' | 'on-failure' | 'always' | 'unless-stopped';
  maximumRetryCount: number;
}

export interface Resources {
  memory?: number; // bytes
  memorySwap?: number; // bytes, memory+swap; -1 unlimited
  nanoCpus?: number; // --cpus * 1e9
  cpuShares?: number;
  cpusetCpus?: string;
  pidsLimit?: number;
}

export interface Ulimit {
  name: string; // nofile, nproc, ... (without RLIMIT_)
  soft: number;
  hard: number;
}

/** A mount as docker's --mount long syntax describes it; -v and --tmpfs are parsed into this shape. */
export type MountRequest =
  // createHostPath: `-v` creates a missing host directory (docker's legacy rule); `--mount` refuses it.
  | {
      type: 'bind';
      source: string;
      target: string;
      readOnly: boolean;
      propagation?: string;
      createHostPath?: boolean;
    }
  | { type: 'volume'; source: string; target: string; readOnly: boolean } // source: volume name (created on demand)
  | { type: 'tmpfs'; target: string; size?: number; mode?: number; options?: string[] };

/** The life cycle, as docker names it. Transitions are checked by core/container/state.ts. */
export type ContainerStatus =
  | 'created'
  | 'running'
  | 'paused'
  | 'restarting'
  | 'exited'
  | 'dead'
  | 'removing';

export interface ContainerState {
  status: ContainerStatus;
  pid: number; // the container's init process on the host, 0 when not running
  monitorPid: number; // the monitor (conmon) process, 0 when none
  exitCode: number;
  oomKilled: boolean;
  error: string;
  startedAt?: number; // ms since epoch
  finishedAt?: number;
  restartCount: number;
  /** Set by `stop`/`kill` from the user so that restart policies (unless-stopped, always) know not to restart. */
  stoppedByUser: boolean;
  /** A hyperbox process (by pid) is in the middle of changing this container: reconcile leaves it alone. */
  busyPid?: number;
  /** That process's start time (/proc/<pid>/stat field 22): with the pid, its identity (a pid may be reused). */
  busyStart?: number;
}
