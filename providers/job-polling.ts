/**
 * How often the managed training backends read a running job's status: soon at first (a short
 * job, or one that fails at once, is seen in seconds), then less and less often up to the configured
 * interval (a long job costs few calls): 1 s, 2 s, 4 s, … `intervalMs`.
 */
export function pollDelayMs(poll: number, intervalMs: number): number {
  return Math.min(intervalMs, 1000 * 2 ** Math.min(poll, 30));
}
