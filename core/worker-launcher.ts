/**
 * Worker threads, started one way. `launchWorker` starts a module beside the caller's file, whether
 * the code runs compiled (lib/, `node lib/bin/retail-mlops.js`: the `.js` worker next to the compiled
 * file) or from TypeScript sources (tsx, vitest: the `.ts` worker, loaded through tsx's CommonJS hook
 * inside the worker; the `--import tsx` flag does not reach worker threads on Node 20).
 *
 * The pools that hold a model in each worker (the batch scoring pool of core/batch-scoring/ and the
 * API's prediction workers of server/inference/) also share the start and the stop:
 * - `startWorker` hands the worker its start data (`workerData`) and resolves once the worker says it
 *   is ready (`reportReady`), with what it reports; a worker that fails to start (`reportStartFailure`),
 *   throws, exits or stays silent past the timeout rejects with WorkerStartError, and is terminated;
 * - `stopWorker` posts the stop message (`null`: the worker releases what it holds and closes its
 *   port, see `onStop`), waits for it to exit and terminates it after a grace period.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { Worker, type MessagePort, type WorkerOptions } from 'node:worker_threads';
import { RetailMlopsError } from './errors';

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

/** A worker could not start: it said so, threw, exited or did not report ready in time. */
export class WorkerStartError extends RetailMlopsError {
  constructor(readonly worker: string, message: string, options?: { readonly cause?: unknown }) {
    super('WORKER_START_FAILED', `worker ${worker} did not start: ${message}`, options);
  }
}

/** A started worker's first message: ready (with what it reports) or why it could not start. */
export type WorkerStartMessage<Ready extends object> =
  | ({ readonly type: 'ready' } & Ready)
  | { readonly type: 'start-failed'; readonly message: string };

export interface StartWorkerOptions {
  /** Handed to the worker as `workerData` (structured clone). @default undefined */
  readonly workerData?: unknown;
  /** How long the worker may take to report ready. @default 30_000 */
  readonly readyTimeoutMs?: number;
}

/** A worker that reported ready, and what it reported. */
export interface StartedWorker<Ready extends object> {
  readonly worker: Worker;
  readonly ready: Ready;
}

/**
 * Starts worker module `name` of `directory` with its start data and waits until it reports ready.
 * @throws WorkerStartError (the worker is terminated)
 */
export async function startWorker<Ready extends object>(directory: string, name: string, options: StartWorkerOptions = {}): Promise<StartedWorker<Ready>> {
  const worker = launchWorker(directory, name, { workerData: options.workerData });
  const timeoutMs = options.readyTimeoutMs ?? 30_000;
  try {
    const ready = await new Promise<Ready>((resolve, reject) => {
      const cleanup = (): void => {
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
      };
      const fail = (error: WorkerStartError): void => {
        cleanup();
        reject(error);
      };
      const onMessage = (message: WorkerStartMessage<Ready>): void => {
        if (message.type === 'start-failed') return fail(new WorkerStartError(name, message.message));
        cleanup();
        const { type: _type, ...reported } = message;
        resolve(reported as unknown as Ready);
      };
      const onError = (error: Error): void => fail(new WorkerStartError(name, error.message, { cause: error }));
      const onExit = (code: number): void => fail(new WorkerStartError(name, `it exited with code ${code}`));
      const timer = setTimeout(() => fail(new WorkerStartError(name, `it did not report ready within ${timeoutMs} ms`)), timeoutMs);
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
    });
    return { worker, ready };
  } catch (error) {
    await worker.terminate();
    throw error;
  }
}

/** Tells the starting thread that this worker is ready (its first message; see startWorker). */
export function reportReady<Ready extends object>(port: MessagePort, ready: Ready, transfer: readonly ArrayBuffer[] = []): void {
  const message: WorkerStartMessage<Ready> = { type: 'ready', ...ready };
  port.postMessage(message, [...transfer]);
}

/** Tells the starting thread that this worker could not start (its first message; see startWorker). */
export function reportStartFailure(port: MessagePort, error: unknown): void {
  const message: WorkerStartMessage<object> = { type: 'start-failed', message: error instanceof Error ? error.message : String(error) };
  port.postMessage(message);
}

/**
 * Runs `release` when the stop message (`null`) arrives, then closes the port so the worker exits.
 * `onMessage` gets every other message.
 */
export function onWorkerMessages<Message>(port: MessagePort, onMessage: (message: Message) => void, release: () => Promise<void> | void): void {
  port.on('message', (message: Message | null) => {
    if (message !== null) return onMessage(message);
    void Promise.resolve()
      .then(release)
      .catch(() => undefined)
      .finally(() => port.close());
  });
}

/** Posts the stop message, waits up to `graceMs` for the worker to exit, then terminates it. */
export async function stopWorker(worker: Worker, graceMs = 5000): Promise<void> {
  if (worker.threadId < 0) return;
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  worker.postMessage(null);
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([exited, new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
  clearTimeout(timer);
  await worker.terminate();
}
