import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';

/**
 * An LGSR-size generated file, cached under .cache/bench/ across benchmark runs. Generated in a
 * child process so the benchmark's own peak RSS measures only what it benchmarks.
 */
export function cachedSample(rows: number, seed = 42): string {
  const file = path.resolve('.cache', 'bench', `lgsr-${rows}-seed${seed}.csv`);
  if (!existsSync(file)) {
    process.stderr.write(`generating ${rows.toLocaleString('en')} rows into ${file} (cached for the next run)…\n`);
    execFileSync(path.resolve('node_modules/.bin/tsx'), ['bin/retail-mlops.ts', 'generate', '--rows', String(rows), '--seed', String(seed), '--out', file, '--quiet'], {
      stdio: ['ignore', 'inherit', 'inherit'],
    });
  }
  return file;
}
