/**
 * A training worker thread (started by TreeThreadPool): sleeps on the control block, runs the tasks
 * it claims of each job the pool publishes, and exits when told to stop. It never returns to its
 * event loop while the pool is open; messages from the pool are read with `receiveMessageOnPort`.
 */
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { runTask } from './parallel-tasks';
import { SharedViews, type TaskEnvironment, type TaskKind } from './task-kinds';
import { claimTask, CONTROL, finishTask, SPIN_LOADS, type FromWorkerMessage, type ToWorkerMessage, type TreeWorkerData } from './thread-pool';

const data = workerData as TreeWorkerData;
const control = new Int32Array(data.control);
const buffers = new Map<number, SharedArrayBuffer>();
const contexts = new Map<number, unknown>();
const port = data.port;
const send = (message: FromWorkerMessage, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);
const environment: TaskEnvironment = {
  integers: new Int32Array(data.integers),
  numbers: new Float64Array(data.numbers),
  views: new SharedViews((id) => {
    const buffer = buffers.get(id);
    if (buffer === undefined) throw new Error(`shared buffer ${id} was never sent to this thread`);
    return buffer;
  }),
  context: (id) => contexts.get(id),
  send,
  local: new Map(),
};

function drainPort(): void {
  for (let received = receiveMessageOnPort(port); received !== undefined; received = receiveMessageOnPort(port)) {
    const message = received.message as ToWorkerMessage;
    if (message.type === 'buffer') {
      buffers.set(message.id, message.buffer);
    } else if (message.type === 'context') {
      contexts.set(message.id, message.context);
    } else {
      for (const id of buffers.keys()) environment.views.forget(id);
      buffers.clear();
      contexts.clear();
      environment.local.clear();
    }
  }
}

function serve(): void {
  let seen = Atomics.load(control, CONTROL.generation);
  for (;;) {
    let generation = Atomics.load(control, CONTROL.generation);
    for (let spins = 0; generation === seen && spins < SPIN_LOADS; spins++) generation = Atomics.load(control, CONTROL.generation);
    if (generation === seen) {
      Atomics.wait(control, CONTROL.generation, seen);
      continue;
    }
    seen = generation;
    if (Atomics.load(control, CONTROL.stop) !== 0) return;
    drainPort();
    const kind = Atomics.load(control, CONTROL.kind) as TaskKind;
    for (let task = claimTask(control, generation); task >= 0; task = claimTask(control, generation)) {
      try {
        runTask(kind, task, environment);
      } catch (error) {
        send({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
        Atomics.store(control, CONTROL.failed, 1);
      }
      finishTask(control);
    }
  }
}

parentPort!.postMessage('ready');
serve();
port.close();
