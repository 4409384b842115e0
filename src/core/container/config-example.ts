import type { ContainerConfig } from './config.ts';

/**
 * The least a create request holds (`run busybox:1` with no flags, on no network): the base that tests and
 * examples change one field of.
 */
export function minimalConfig(): Omit<ContainerConfig, 'imageId'> {
  return {
    image: 'busybox:1',
    env: [],
    labels: {},
    tty: false,
    openStdin: false,
    readOnly: false,
    init: false,
    autoRemove: false,
    restart: { name: 'no', maximumRetryCount: 0 },
    networkMode: 'none',
    privileged: false,
    capAdd: [],
    capDrop: [],
    noNewPrivileges: false,
    seccomp: 'default',
    mounts: [],
    resources: {},
    ulimits: [],
  };
}
