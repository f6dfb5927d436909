/**
 * Worker threads for the tree trainers, driven synchronously through shared memory.
 *
 * The trainers are synchronous loops with thousands of small parallel steps per model (one per
 * node), too many for message round trips. So the calling thread publishes a job in shared memory
 * (a kind, a task count, parameters), wakes the workers with `Atomics.notify`, claims tasks itself
 * like any worker, and blocks in `Atomics.wait` until every task is done. Tasks are claimed from a
 * shared counter, so a worker the OS schedules late simply gets fewer tasks.
 *
 * Determinism: a task's output depends only on the job and the task index, never on which thread
 * runs it or how many threads there are (every parallel step is split by features, rows or trees,
 * each piece computed as the one-thread code computes it). So a seed gives the same model bytes
 * with 1, 2 or 16 threads.
 *
 * Every array a job refers to lives in the pool's TrainingMemory (one shared WebAssembly memory that
 * every thread holds, where the WebAssembly histogram kernels run); a job names an array by its byte
 * offset and length there (`locate`). Contexts (`addContext`) travel on each worker's port, which the
 * worker drains before its next job with `receiveMessageOnPort`; results come back the same way
 * (`takeMessages`).
 */
import { availableParallelism } from 'node:os';
import { MessageChannel, receiveMessageOnPort, type MessagePort, type Worker } from 'node:worker_threads';
import { runTask } from './parallel-tasks';
import type { TaskEnvironment, TaskKind } from './task-kinds';
import { TrainingMemory, type MemoryArray } from './training-memory';
import type { WasmMemory } from './wasm-assembler';
import { InvalidOptionsError, RetailMlopsError } from '../../errors';
import { launchWorker } from '../../worker-launcher';

/** A task of a job failed in a worker thread (the message and stack of the error it threw). */
export class TrainingThreadError extends RetailMlopsError {
  constructor(message: string) {
    super('TRAINING_THREAD_FAILED', message);
  }
}

export interface TreeThreadPoolOptions {
  /** Threads that train, the calling thread included (so `threads - 1` workers start). @default the number of cores */
  readonly threads?: number;
}

/** What a worker starts with. */
export interface TreeWorkerData {
  readonly control: SharedArrayBuffer;
  readonly integers: SharedArrayBuffer;
  readonly numbers: SharedArrayBuffer;
  readonly memory: WasmMemory;
  readonly port: MessagePort;
}

/** Messages on a worker's port. */
export type ToWorkerMessage = { readonly type: 'context'; readonly id: number; readonly context: unknown } | { readonly type: 'release' };
export type FromWorkerMessage = { readonly type: 'error'; readonly message: string } | { readonly type: 'result'; readonly task: number; readonly value: unknown };

/** Slots of the control block (Int32). */
export const CONTROL = {
  /** Bumped to publish a job (workers wait on it). */
  generation: 0,
  /** (generation & 0xffff) << 15 | next task; next = CLOSED while a job is being written. */
  ticket: 1,
  tasks: 2,
  done: 3,
  kind: 4,
  failed: 5,
  stop: 6,
  size: 8,
} as const;
/** `next` of a closed ticket: no task index reaches it. */
export const CLOSED = 0x7fff;
/** Most tasks one job can have. */
export const MAX_TASKS = CLOSED - 1;
/** Job parameters: integers and float64 numbers. */
export const PARAMETER_INTEGERS = 1024;
export const PARAMETER_NUMBERS = 256;

/**
 * Claims the next task of the job `generation` publishes, or returns -1 (no task left, or the job is
 * already another one). The ticket holds the generation beside the next index, so a thread that read
 * an old job's parameters can never claim a newer job's task.
 */
export function claimTask(control: Int32Array, generation: number): number {
  const expected = (generation & 0xffff) << 15;
  for (;;) {
    const ticket = Atomics.load(control, CONTROL.ticket);
    // eslint-disable-next-line no-bitwise -- the ticket packs two fields
    if ((ticket & ~CLOSED) !== expected) return -1;
    // eslint-disable-next-line no-bitwise
    const next = ticket & CLOSED;
    if (next >= Atomics.load(control, CONTROL.tasks)) return -1;
    if (Atomics.compareExchange(control, CONTROL.ticket, ticket, ticket + 1) === ticket) return next;
  }
}

/** Marks a task done; the last one wakes the thread waiting for the job. */
export function finishTask(control: Int32Array): void {
  if (Atomics.add(control, CONTROL.done, 1) + 1 === Atomics.load(control, CONTROL.tasks)) Atomics.notify(control, CONTROL.done);
}

/**
 * Loads before a thread sleeps on a counter: about 2 ms here (≈ 6 ns a load), longer than the calling
 * thread's serial work between two jobs (a level's splits and plans, ≈ 0.15 ms on average), so a
 * worker is still awake when the next job comes instead of waiting to be woken on every job
 * (libgomp, XGBoost's OpenMP, spins as long by default: GOMP_SPINCOUNT 300,000). Measured on
 * bench:train (200k × 40, 2 threads): 4,000 loads (25 µs) took ≈ 6% longer; 1,000,000 loads made
 * a loaded machine much slower.
 */
export const SPIN_LOADS = 300_000;

/**
 * The threads of one training: the calling thread plus `threads - 1` workers. Start it, hand it to
 * the trainers (it can serve many trainings in turn), close it. With one thread no worker starts and
 * every job runs on the calling thread.
 */
export class TreeThreadPool {
  /** Starts the workers and waits until each is ready; throws `InvalidOptionsError` for a bad thread count. */
  static async start(options: TreeThreadPoolOptions = {}): Promise<TreeThreadPool> {
    const threads = options.threads ?? availableParallelism();
    const problems: string[] = [];
    if (!(Number.isInteger(threads) && threads >= 1 && threads <= 256)) problems.push(`threads must be an integer from 1 to 256 (got ${threads})`);
    if (problems.length > 0) throw new InvalidOptionsError('training threads', problems);
    const control = new SharedArrayBuffer(CONTROL.size * 4);
    const integers = new SharedArrayBuffer(PARAMETER_INTEGERS * 4);
    const numbers = new SharedArrayBuffer(PARAMETER_NUMBERS * 8);
    const memory = TrainingMemory.create();
    const workers: Worker[] = [];
    const ports: MessagePort[] = [];
    try {
      for (let index = 1; index < threads; index++) {
        const channel = new MessageChannel();
        const workerData: TreeWorkerData = { control, integers, numbers, memory: memory.memory, port: channel.port2 };
        const worker = launchWorker(__dirname, 'tree-worker', { workerData, transferList: [channel.port2] });
        workers.push(worker);
        ports.push(channel.port1);
      }
      await Promise.all(workers.map((worker) => workerReady(worker)));
    } catch (error) {
      await Promise.all(workers.map((worker) => worker.terminate()));
      for (const port of ports) port.close();
      throw error;
    }
    return new TreeThreadPool(threads, workers, ports, control, integers, numbers, memory);
  }

  /** Integer parameters of the next job. */
  readonly integers: Int32Array;
  /** float64 parameters of the next job. */
  readonly numbers: Float64Array;
  private readonly control: Int32Array;
  private generation = 0;
  private jobs = 0;
  private nextContextId = 0;
  private readonly contexts = new Map<number, unknown>();
  private readonly environment: TaskEnvironment;
  /** Results of the tasks this thread ran. */
  private readonly ownMessages: FromWorkerMessage[] = [];
  private closed = false;

  private constructor(
    /** Threads that run jobs, the calling thread included. */
    readonly threads: number,
    private readonly workers: readonly Worker[],
    private readonly ports: readonly MessagePort[],
    controlBuffer: SharedArrayBuffer,
    integers: SharedArrayBuffer,
    numbers: SharedArrayBuffer,
    /** Where the arrays of the pool's jobs live (reset by `release`). */
    readonly memory: TrainingMemory,
  ) {
    this.control = new Int32Array(controlBuffer);
    this.integers = new Int32Array(integers);
    this.numbers = new Float64Array(numbers);
    const contexts = this.contexts;
    this.environment = {
      integers: this.integers,
      numbers: this.numbers,
      memory,
      context: (id) => contexts.get(id),
      send: (message) => this.ownMessages.push(message),
      local: new Map(),
    };
    for (const worker of workers) worker.unref();
    for (const port of ports) port.unref();
  }

  /** A zeroed Float64Array in the pool's memory. */
  float64(length: number): Float64Array {
    return this.memory.float64(length);
  }

  /** A zeroed Float32Array in the pool's memory. */
  float32(length: number): Float32Array {
    return this.memory.float32(length);
  }

  /** A zeroed Int32Array in the pool's memory. */
  int32(length: number): Int32Array {
    return this.memory.int32(length);
  }

  /** The array itself when it is in the pool's memory, else a copy there. */
  share<T extends MemoryArray>(array: T): T {
    return this.memory.copy(array);
  }

  /** Writes where `array` (in the pool's memory) is, as a job names it: its byte offset, then its length. */
  locate(array: MemoryArray, integers: Int32Array, at: number): void {
    integers[at] = this.memory.offsetOf(array);
    integers[at + 1] = array.length;
  }

  /**
   * Frees the pool's memory and forgets every context, on every thread (at their next job): a
   * trainer calls it when it is done with the arrays it allocated.
   */
  release(): void {
    this.memory.reset();
    this.contexts.clear();
    this.environment.local.clear();
    this.broadcast({ type: 'release' });
  }

  /** Gives every thread a structured-clonable value that later jobs refer to by the returned id. */
  addContext(context: unknown): number {
    const id = this.nextContextId++;
    this.contexts.set(id, context);
    this.broadcast({ type: 'context', id, context });
    return id;
  }

  /**
   * Runs `taskCount` tasks of `kind` over the current parameters on every thread, this one included,
   * and returns when all are done. Results tasks sent come back from `takeMessages`.
   *
   * @param afterOwnTask told, after each task this thread ran, how many tasks are done in all
   */
  run(kind: TaskKind, taskCount: number, afterOwnTask?: (done: number) => void): void {
    if (this.closed) throw new TrainingThreadError('the training thread pool is closed');
    if (!(taskCount <= MAX_TASKS)) throw new RangeError(`a job has at most ${MAX_TASKS} tasks (got ${taskCount})`);
    if (taskCount <= 0) return;
    this.jobs++;
    const control = this.control;
    if (this.workers.length === 0) {
      for (let task = 0; task < taskCount; task++) {
        runTask(kind, task, this.environment);
        afterOwnTask?.(task + 1);
      }
      return;
    }
    // close the ticket under the next generation before writing the job: a late thread of the last job can no longer claim
    const generation = (this.generation + 1) & 0xffff;
    this.generation = generation;
    Atomics.store(control, CONTROL.ticket, (generation << 15) | CLOSED);
    Atomics.store(control, CONTROL.kind, kind);
    Atomics.store(control, CONTROL.tasks, taskCount);
    Atomics.store(control, CONTROL.done, 0);
    Atomics.store(control, CONTROL.failed, 0);
    Atomics.store(control, CONTROL.ticket, generation << 15);
    Atomics.store(control, CONTROL.generation, generation);
    Atomics.notify(control, CONTROL.generation);
    let failure: unknown;
    for (let task = claimTask(control, generation); task >= 0; task = claimTask(control, generation)) {
      try {
        runTask(kind, task, this.environment);
      } catch (error) {
        failure ??= error;
      }
      const done = Atomics.add(control, CONTROL.done, 1) + 1;
      afterOwnTask?.(done);
    }
    let spins = 0;
    for (let done = Atomics.load(control, CONTROL.done); done < taskCount; done = Atomics.load(control, CONTROL.done)) {
      if (spins < SPIN_LOADS) spins++;
      else Atomics.wait(control, CONTROL.done, done, 1000);
    }
    if (failure !== undefined) {
      this.takeMessages();
      throw failure;
    }
    if (Atomics.load(control, CONTROL.failed) !== 0) {
      const errors = this.takeMessages().filter((message): message is Extract<FromWorkerMessage, { type: 'error' }> => message.type === 'error');
      throw new TrainingThreadError(`a training thread failed: ${errors.map((error) => error.message).join('; ') || 'no message'}`);
    }
  }

  /** Messages workers sent since the last call (results of the last jobs), in no particular order. */
  takeMessages(): FromWorkerMessage[] {
    const messages = this.ownMessages.splice(0);
    for (const port of this.ports) {
      for (let received = receiveMessageOnPort(port); received !== undefined; received = receiveMessageOnPort(port)) {
        messages.push(received.message as FromWorkerMessage);
      }
    }
    return messages;
  }

  /** Jobs run so far (every `run` with at least one task). */
  get jobsRun(): number {
    return this.jobs;
  }

  /** Values the calling thread keeps between its own tasks (a task's scratch buffers), by name. */
  get local(): Map<string, unknown> {
    return this.environment.local;
  }

  /** Stops the workers. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    Atomics.store(this.control, CONTROL.stop, 1);
    Atomics.add(this.control, CONTROL.generation, 1);
    Atomics.notify(this.control, CONTROL.generation);
    await Promise.all(
      this.workers.map(async (worker) => {
        // referenced again: waiting for the exit must keep this thread's event loop alive
        worker.ref();
        let timer: NodeJS.Timeout | undefined;
        const exited = new Promise((resolve) => worker.once('exit', resolve));
        await Promise.race([exited, new Promise((resolve) => (timer = setTimeout(resolve, 2000)))]);
        clearTimeout(timer);
        await worker.terminate();
      }),
    );
    for (const port of this.ports) port.close();
  }

  private broadcast(message: ToWorkerMessage): void {
    for (const port of this.ports) port.postMessage(message);
  }
}

/** Resolves when the worker says it is ready; rejects with its error or exit. */
function workerReady(worker: Worker): Promise<void> {
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    const onMessage = (): void => {
      cleanup();
      resolve();
    };
    const onError = (error: Error): void => {
      cleanup();
      reject(new TrainingThreadError(`a training thread failed to start: ${error.message}`));
    };
    const onExit = (code: number): void => {
      cleanup();
      reject(new TrainingThreadError(`a training thread exited with code ${code} while starting`));
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
  });
}
