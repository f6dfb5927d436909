/**
 * Starts a worker thread from a module beside this file, whether the server runs compiled (lib/,
 * `node lib/bin/retail-mlops.js`: the `.js` worker next to the compiled file) or from TypeScript
 * sources (tsx, vitest: the `.ts` worker, loaded through tsx's CommonJS hook inside the worker; the
 * `--import tsx` flag does not reach worker threads on Node 20).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/** The worker module `name` (no extension) of `directory`, as a started Worker. */
export function launchWorker(directory: string, name: string, options: WorkerOptions = {}): Worker {
  const compiled = path.join(directory, `${name}.js`);
  if (existsSync(compiled)) return new Worker(compiled, options);
  const source = path.join(directory, `${name}.ts`);
  if (!existsSync(source)) throw new Error(`worker module ${name} not found in ${directory} (neither .js nor .ts)`);
  const tsxRegister = createRequire(__filename).resolve('tsx/cjs/api');
  const bootstrap = `require(${JSON.stringify(tsxRegister)}).register(); require(${JSON.stringify(source)});`;
  return new Worker(bootstrap, { ...options, eval: true });
}
