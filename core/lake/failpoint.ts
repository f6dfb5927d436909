/**
 * Failpoints for crash tests: when RETAIL_MLOPS_FAILPOINT names this point, the process kills
 * itself with SIGKILL right there (no cleanup, no finally blocks), as a power cut or OOM kill would.
 * Unset in production, where this is a single environment lookup.
 */
export function failpoint(name: string): void {
  if (process.env.RETAIL_MLOPS_FAILPOINT === name) process.kill(process.pid, 'SIGKILL');
}
