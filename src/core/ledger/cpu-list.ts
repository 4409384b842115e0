import { InvalidArgumentError } from '../errors.ts';

/**
 * Linux CPU lists, as in /sys/devices/system/cpu/online, cpuset.cpus and `--cpuset-cpus`: "0-3,8,10-11".
 */

/** The CPU numbers of a list, ascending and without repeats; throws naming `what` on anything malformed. */
export function parseCpuList(text: string, what = 'CPU list'): number[] {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  const cpus = new Set<number>();
  for (const part of trimmed.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw new InvalidArgumentError(`invalid ${what} "${text}": expected a list like 0-2,4`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo) throw new InvalidArgumentError(`invalid ${what} "${text}": range ${part} runs backwards`);
    if (hi > 8191) throw new InvalidArgumentError(`invalid ${what} "${text}": CPU ${hi} is out of range`);
    for (let c = lo; c <= hi; c++) cpus.add(c);
  }
  return [...cpus].sort((a, b) => a - b);
}

/** The shortest list for a set of CPUs: [0,1,2,3,8] -> "0-3,8". */
export function formatCpuList(cpus: readonly number[]): string {
  const sorted = [...new Set(cpus)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(
      j === i ? `${sorted[i]}` : j === i + 1 ? `${sorted[i]},${sorted[j]}` : `${sorted[i]}-${sorted[j]}`,
    );
    i = j + 1;
  }
  return parts.join(',');
}

/** "CPU 3" or "CPUs 2-7": for messages. */
export function cpusPhrase(cpus: readonly number[]): string {
  return `${cpus.length === 1 ? 'CPU' : 'CPUs'} ${formatCpuList(cpus)}`;
}
