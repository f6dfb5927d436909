import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

/** The generator's modules (core/generator/): what a generated file's content depends on. */
const GENERATOR_FILES = ['generator.ts', 'generator-options.ts', 'basket-synthesis.ts', 'catalog.ts', 'row-formatting.ts', 'seeded-random.ts'];

/** A short hash of the generator's code, so a changed generator never reuses an old file. */
function generatorCodeHash(): string {
  const hash = createHash('sha256');
  for (const name of GENERATOR_FILES) hash.update(name).update(readFileSync(path.resolve('core', 'generator', name)));
  return hash.digest('hex').slice(0, 8);
}

/**
 * An LGSR-size generated file, cached under .cache/bench/ across benchmark runs (named by rows, seed
 * and the generator code's hash). Generated in a
 * child process so the benchmark's own peak RSS measures only what it benchmarks.
 */
export function cachedSample(rows: number, seed = 42): string {
  const file = path.resolve('.cache', 'bench', `lgsr-${rows}-seed${seed}-${generatorCodeHash()}.csv`);
  if (!existsSync(file)) {
    process.stderr.write(`generating ${rows.toLocaleString('en')} rows into ${file} (cached for the next run)…\n`);
    execFileSync(path.resolve('node_modules/.bin/tsx'), ['bin/retail-mlops.ts', 'generate', '--rows', String(rows), '--seed', String(seed), '--out', file, '--quiet'], {
      stdio: ['ignore', 'inherit', 'inherit'],
    });
  }
  return file;
}
