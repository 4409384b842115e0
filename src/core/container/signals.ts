import { InvalidArgumentError } from '../errors.ts';

/**
 * Linux signal numbers on x86-64 and arm64 (they agree for every signal named here). The real-time range
 * (SIGRTMIN..SIGRTMAX, 34..64) is accepted as numbers and as RTMIN+n / RTMAX-n, as docker does.
 */
const SIGNALS: Readonly<Record<string, number>> = {
  HUP: 1,
  INT: 2,
  QUIT: 3,
  ILL: 4,
  TRAP: 5,
  ABRT: 6,
  IOT: 6,
  BUS: 7,
  FPE: 8,
  KILL: 9,
  USR1: 10,
  SEGV: 11,
  USR2: 12,
  PIPE: 13,
  ALRM: 14,
  TERM: 15,
  STKFLT: 16,
  CHLD: 17,
  CONT: 18,
  STOP: 19,
  TSTP: 20,
  TTIN: 21,
  TTOU: 22,
  URG: 23,
  XCPU: 24,
  XFSZ: 25,
  VTALRM: 26,
  PROF: 27,
  WINCH: 28,
  IO: 29,
  POLL: 29,
  PWR: 30,
  SYS: 31,
};

const RTMIN = 34;
const RTMAX = 64;

export interface Signal {
  /** Canonical name, e.g. "SIGTERM" (or "SIGRTMIN+3"); runc accepts it as is. */
  name: string;
  number: number;
}

/**
 * Parses a signal as users write it: "SIGTERM", "TERM", "term", "15", "SIGRTMIN+1". Throws InvalidArgumentError
 * naming the value when it is not a signal.
 */
export function parseSignal(value: string): Signal {
  const text = value.trim();
  if (/^\d+$/.test(text)) {
    const number = Number(text);
    const name = nameOf(number);
    if (name === undefined)
      throw new InvalidArgumentError(`invalid signal: ${value} (no signal has that number)`);
    return { name, number };
  }
  const bare = text.toUpperCase().replace(/^SIG/, '');
  const known = SIGNALS[bare];
  if (known !== undefined) return { name: nameOf(known)!, number: known };
  const rt = /^RT(MIN|MAX)([+-]\d+)?$/.exec(bare);
  if (rt) {
    const number = (rt[1] === 'MIN' ? RTMIN : RTMAX) + Number(rt[2] ?? 0);
    if (number >= RTMIN && number <= RTMAX) return { name: nameOf(number)!, number };
  }
  throw new InvalidArgumentError(`invalid signal: ${value}`);
}

function nameOf(number: number): string | undefined {
  if (number >= RTMIN && number <= RTMAX) {
    return number === RTMIN ? 'SIGRTMIN' : `SIGRTMIN+${number - RTMIN}`;
  }
  // The first name in the table wins for aliases (IOT/ABRT, POLL/IO), so iterate in order.
  for (const [name, n] of Object.entries(SIGNALS)) if (n === number) return `SIG${name}`;
  return undefined;
}

/** The signal `stop` sends first: the container's own setting, else the image's, else SIGTERM. */
export function stopSignalFor(configured: string | undefined, image: string | undefined): Signal {
  return parseSignal(configured ?? (image || 'SIGTERM'));
}
