/**
 * Runs an in-process training job on a worker thread of its own, so that several jobs can train at
 * once (each blocks its thread for seconds) while this thread stays free for progress and signals.
 */
import type { TrainedModel, TrainingJob, TrainingRunOptions } from './port';
import { InvalidOptionsError, RetailMlopsError } from '../errors';
import { launchWorker } from '../worker-launcher';

/** What the job's worker starts with. */
export interface JobWorkerData {
  readonly job: TrainingJob;
  readonly threads?: number;
  readonly reportProgress: boolean;
  /** The job's lake, opened by the caller: a local directory. @default job.dataset.uri */
  readonly lakeRoot?: string;
}

export interface JobThreadOptions extends TrainingRunOptions {
  /** Opens the job's lake here (a cloud lake's local copy); the thread reads the directory it gives. @default the URI is a directory */
  readonly openLake?: (uri: string) => Promise<{ readonly root: string }>;
}

/** An error as it crosses threads: enough to raise the same kind of error on this side. */
export interface SerializedError {
  readonly name: string;
  readonly message: string;
  readonly code?: string;
  readonly subject?: string;
  readonly problems?: readonly string[];
  readonly stack?: string;
}

export type JobWorkerMessage =
  | { readonly type: 'progress'; readonly call: 'start'; readonly phase: string; readonly total?: number; readonly unit?: string }
  | { readonly type: 'progress'; readonly call: 'update'; readonly done: number }
  | { readonly type: 'progress'; readonly call: 'stop' }
  | { readonly type: 'result'; readonly model: TrainedModel }
  | { readonly type: 'error'; readonly error: SerializedError };

export function serializeError(error: unknown): SerializedError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const details = error as Error & { code?: unknown; subject?: unknown; problems?: unknown };
  return {
    name: error.name,
    message: error.message,
    code: RetailMlopsError.isInstance(error) ? error.code : undefined,
    subject: typeof details.subject === 'string' ? details.subject : undefined,
    problems: Array.isArray(details.problems) ? details.problems.map(String) : undefined,
    stack: error.stack,
  };
}

/** The same kind of error on this thread: project errors keep their class (when known) or at least their code. */
export function deserializeError(error: SerializedError): Error {
  if (error.code === 'INVALID_OPTIONS' && error.subject !== undefined && error.problems !== undefined) return new InvalidOptionsError(error.subject, error.problems);
  const rebuilt = error.code === undefined ? new Error(error.message) : new RetailMlopsError(error.code, error.message);
  rebuilt.name = error.name;
  if (error.stack !== undefined) rebuilt.stack = error.stack;
  return rebuilt;
}

/** Trains `job` with `trainInProcess` on a new worker thread; an aborted signal terminates it. */
export async function trainInWorker(job: TrainingJob, options: JobThreadOptions = {}): Promise<TrainedModel> {
  options.signal?.throwIfAborted();
  const lakeRoot = options.openLake === undefined ? undefined : (await options.openLake(job.dataset.uri)).root;
  options.signal?.throwIfAborted();
  const workerData: JobWorkerData = { job, threads: options.threads, reportProgress: options.progress !== undefined, lakeRoot };
  const worker = launchWorker(__dirname, 'training-job-worker', { workerData });
  let onAbort: (() => void) | undefined;
  try {
    return await new Promise<TrainedModel>((resolve, reject) => {
      onAbort = (): void => reject(options.signal!.reason instanceof Error ? options.signal!.reason : new Error('training aborted'));
      options.signal?.addEventListener('abort', onAbort, { once: true });
      worker.on('message', (message: JobWorkerMessage) => {
        if (message.type === 'result') resolve(message.model);
        else if (message.type === 'error') reject(deserializeError(message.error));
        else if (message.call === 'start') options.progress?.start(message.phase, message.total, message.unit);
        else if (message.call === 'update') options.progress?.update(message.done);
        else options.progress?.stop();
      });
      worker.on('error', reject);
      worker.on('exit', (code) => reject(new RetailMlopsError('TRAINING_THREAD_FAILED', `the training job's thread exited with code ${code} before it answered`)));
    });
  } finally {
    if (onAbort !== undefined) options.signal?.removeEventListener('abort', onAbort);
    await worker.terminate();
  }
}
