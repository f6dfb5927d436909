/**
 * A worker for tests/core/worker-launcher.test.ts: its start data says how it starts (ready, fail,
 * throw, exit, stay silent); once ready it echoes numbers doubled (a negative one after a minute of busy looping) until it is stopped, and on stop
 * it says so before its port closes.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { onWorkerMessages, reportReady, reportStartFailure } from '../../../core/worker-launcher';

export interface EchoWorkerData {
  readonly start: 'ready' | 'fail' | 'throw' | 'exit' | 'silent';
}

const port = parentPort!;
const data = workerData as EchoWorkerData;
switch (data.start) {
  case 'ready':
    onWorkerMessages<number>(
      port,
      (value) => {
        // a negative value keeps the worker busy for a minute (it reads no message meanwhile)
        const until = value < 0 ? Date.now() + 60_000 : 0;
        while (Date.now() < until) Math.sqrt(value);
        port.postMessage(value * 2);
      },
      () => port.postMessage('released'),
    );
    reportReady(port, { greeting: 'hello' });
    break;
  case 'fail':
    reportStartFailure(port, new Error('no model here'));
    break;
  case 'throw':
    throw new Error('broken at start');
  case 'exit':
    process.exit(3);
    break;
  case 'silent':
    setInterval(() => undefined, 1000);
    break;
}
