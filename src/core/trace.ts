/**
 * Phase timings for performance work: with HYPERBOX_TRACE=1 each `mark` prints the milliseconds since the process
 * started to stderr. Costs one environment lookup when off.
 */
const enabled = process.env.HYPERBOX_TRACE === '1';

export function mark(label: string): void {
  if (enabled) process.stderr.write(`[trace] ${performance.now().toFixed(1)} ms ${label}\n`);
}
