import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EchoWorkerData } from './worker-fixtures/echo-worker';
import { startWorker, stopWorker, WorkerStartError } from '../../core/worker-launcher';

const fixtures = path.join(__dirname, 'worker-fixtures');
const start = (data: EchoWorkerData, readyTimeoutMs?: number) => startWorker<{ greeting: string }>(fixtures, 'echo-worker', { workerData: data, readyTimeoutMs });

describe('startWorker / stopWorker: the one way pools start and stop their workers', () => {
  it('resolves with what the worker reported ready, and stops it after it released what it holds', async () => {
    const { worker, ready } = await start({ start: 'ready' });
    expect(ready).toEqual({ greeting: 'hello' });
    const messages: unknown[] = [];
    worker.on('message', (message) => messages.push(message));
    worker.postMessage(21);
    await new Promise((resolve) => worker.once('message', resolve));
    const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
    await stopWorker(worker);
    expect(await exited).toBe(0);
    expect(messages).toEqual([42, 'released']);
  });

  it.each([
    ['says it cannot start', { start: 'fail' } as const, /echo-worker did not start: no model here/],
    ['throws at start', { start: 'throw' } as const, /echo-worker did not start: broken at start/],
    ['exits', { start: 'exit' } as const, /echo-worker did not start: it exited with code 3/],
  ])('rejects with WorkerStartError when the worker %s', async (_case, data, message) => {
    const failure = await start(data).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(WorkerStartError);
    expect((failure as WorkerStartError).code).toBe('WORKER_START_FAILED');
    expect((failure as Error).message).toMatch(message);
  });

  it('rejects a worker that stays silent past the timeout, and terminates it', async () => {
    const failure = await start({ start: 'silent' }, 1500).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(WorkerStartError);
    expect((failure as Error).message).toMatch(/did not report ready within 1500 ms/);
  });

  it('terminates a worker that does not exit within the grace period', async () => {
    const { worker } = await start({ start: 'ready' });
    // a worker busy in a loop never reads the stop message
    worker.postMessage(-1);
    const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
    await stopWorker(worker, 200);
    expect(await exited).toBe(1);
  });
});
