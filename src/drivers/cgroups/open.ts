import { type CgroupReader, detectCgroupVersion } from './cgroup-reader.ts';
import { CgroupV1Reader } from './cgroup-v1.ts';
import { CgroupV2Reader } from './cgroup-v2.ts';

/** The reader for this host's cgroup layout. */
export function openCgroupReader(root = '/sys/fs/cgroup'): CgroupReader {
  return detectCgroupVersion(root) === 2 ? new CgroupV2Reader(root) : new CgroupV1Reader(root);
}
