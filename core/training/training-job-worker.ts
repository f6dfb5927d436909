/**
 * A worker thread that runs one in-process training job (started by `trainInWorker`): progress
 * calls and the trained model (or the error) go back to the parent as messages.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { trainInProcess } from './in-process';
import { Lake } from '../lake/lake';
import type { ProgressReporter } from '../progress';
import { serializeError, type JobWorkerData, type JobWorkerMessage } from './job-thread';

const data = workerData as JobWorkerData;
const port = parentPort!;
const send = (message: JobWorkerMessage): void => port.postMessage(message);
const progress: ProgressReporter = {
  start: (phase, total, unit) => send({ type: 'progress', call: 'start', phase, total, unit }),
  update: (done) => send({ type: 'progress', call: 'update', done }),
  stop: () => send({ type: 'progress', call: 'stop' }),
};

const lakeRoot = data.lakeRoot;
const openLake = lakeRoot === undefined ? undefined : (): Promise<Lake> => Lake.openExisting(lakeRoot);
trainInProcess(data.job, { threads: data.threads, progress: data.reportProgress ? progress : undefined, openLake }).then(
  (model) => send({ type: 'result', model }),
  (error: unknown) => send({ type: 'error', error: serializeError(error) }),
);
