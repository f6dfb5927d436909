/**
 * A training worker thread (started by TreeThreadPool): sleeps on the control block, runs the tasks
 * it claims of each job the pool publishes, and exits when told to stop. It never returns to its
 * event loop while the pool is open; messages from the pool are read with `receiveMessageOnPort`.
 */
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { runTask } from './parallel-tasks';
import type { TaskEnvironment, TaskKind } from './task-kinds';
import { claimTask, CONTROL, finishTask, SPIN_LOADS, type FromWorkerMessage, type ToWorkerMessage, type TreeWorkerData } from './thread-pool';
import { TrainingMemory } from './training-memory';

const data = workerData as TreeWorkerData;
const control = new Int32Array(data.control);
const contexts = new Map<number, unknown>();
const port = data.port;
const send = (message: FromWorkerMessage, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);
const environment: TaskEnvironment = {
  integers: new Int32Array(data.integers),
  numbers: new Float64Array(data.numbers),
  memory: TrainingMemory.attach(data.memory),
  context: (id) => contexts.get(id),
  send,
  local: new Map(),
};

function drainPort(): void {
  for (let received = receiveMessageOnPort(port); received !== undefined; received = receiveMessageOnPort(port)) {
    const message = received.message as ToWorkerMessage;
    if (message.type === 'context') {
      contexts.set(message.id, message.context);
    } else {
      contexts.clear();
      environment.local.clear();
    }
  }
}

/** The control slots as locals (an imported binding is a property read on every use). */
const GENERATION = CONTROL.generation;
const STOP = CONTROL.stop;
const KIND = CONTROL.kind;
const SPINS = SPIN_LOADS;

function serve(): void {
  let seen = Atomics.load(control, GENERATION);
  for (;;) {
    let generation = Atomics.load(control, GENERATION);
    for (let spins = 0; generation === seen && spins < SPINS; spins++) generation = Atomics.load(control, GENERATION);
    if (generation === seen) {
      Atomics.wait(control, GENERATION, seen);
      continue;
    }
    seen = generation;
    if (Atomics.load(control, STOP) !== 0) return;
    drainPort();
    const kind = Atomics.load(control, KIND) as TaskKind;
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
