/**
 * Micro-batching: prediction requests that arrive while the inference workers are busy are merged
 * into one ONNX Runtime `run`. There is no fixed wait: a batch leaves as soon as a worker has room
 * (at the end of the current event-loop turn, so requests parsed in the same turn travel together),
 * and whatever queues while the workers compute leaves together next. Light load gets batches of one
 * and no added latency; heavy load gets large batches and fewer messages and runs.
 *
 * Admission control: the queue holds at most `maxQueuedRows` baskets (waiting or running); a request
 * that would exceed it is refused at once (InferenceQueueFullError → 503 + Retry-After) rather than
 * queued into unbounded latency. A request still waiting at its deadline is dropped unrun.
 */
import { InferenceQueueFullError, InferenceTimeoutError, InferenceWorkerError } from '../errors';
import type { RunResult } from './inference-worker';

/** What runs a batch: an InferenceWorker (or a stand-in in tests). */
export interface InferenceRunner {
  /** Runs `rows` rows of features (the buffer may be transferred; it comes back in the result). */
  run(features: Float32Array, rows: number): Promise<RunResult>;
  /** Runs sent and not answered yet. */
  readonly inFlight: number;
  readonly failed: boolean;
}

/** One request's share of a run: views into the batch's result buffers. */
export interface JobResult {
  readonly probabilities: Float32Array;
  readonly labels: Uint8Array;
}

/** A completed run, with what each row belongs to (for the prediction log and metrics). */
export interface CompletedBatch {
  readonly rows: number;
  /** rows × featureCount. */
  readonly features: Float32Array;
  /** rows × classCount. */
  readonly probabilities: Float32Array;
  readonly labels: Uint8Array;
  /** One entry per request in the batch, in row order, with its row count. */
  readonly requestIds: readonly string[];
  readonly rowsPerRequest: Uint32Array;
}

export interface MicroBatcherOptions {
  readonly workers: readonly InferenceRunner[];
  readonly featureCount: number;
  readonly classCount: number;
  /** Rows per run (a single request with more rows runs alone). */
  readonly maxBatchRows: number;
  /** Baskets waiting or running before new requests are refused. */
  readonly maxQueuedRows: number;
  /** Runs each worker may have in flight (2 keeps a worker busy while the next batch travels). */
  readonly maxInFlightPerWorker: number;
  /** Milliseconds since an arbitrary origin (deadlines are in this clock). */
  readonly monotonicNow: () => number;
  readonly onBatch?: (batch: CompletedBatch) => void;
}

interface Job {
  readonly features: Float32Array;
  readonly rows: number;
  readonly requestId: string;
  readonly deadline: number;
  readonly timeoutMs: number;
  readonly resolve: (result: JobResult) => void;
  readonly reject: (error: Error) => void;
}

export class MicroBatcher {
  private queue: Job[] = [];
  private queueHead = 0;
  private pendingRows = 0;
  private flushScheduled = false;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly options: MicroBatcherOptions) {}

  /** Baskets waiting or running. */
  get queuedRows(): number {
    return this.pendingRows;
  }

  /** Whether a request of `rows` baskets would be admitted now. */
  hasRoomFor(rows: number): boolean {
    return this.pendingRows === 0 || this.pendingRows + rows <= this.options.maxQueuedRows;
  }

  /**
   * Queues `rows` rows of features (rows × featureCount; the buffer is copied into the batch).
   * @throws InferenceQueueFullError (synchronously) when the queue has no room
   */
  submit(features: Float32Array, rows: number, requestId: string, timeoutMs: number): Promise<JobResult> {
    if (!this.hasRoomFor(rows)) throw new InferenceQueueFullError(this.pendingRows, this.options.maxQueuedRows);
    this.pendingRows += rows;
    return new Promise<JobResult>((resolve, reject) => {
      this.queue.push({ features, rows, requestId, deadline: this.options.monotonicNow() + timeoutMs, timeoutMs, resolve, reject });
      this.scheduleFlush();
    });
  }

  /** Resolves when nothing is queued or running. */
  whenIdle(): Promise<void> {
    if (this.pendingRows === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    while (this.queueHead < this.queue.length) {
      const worker = this.leastBusyWorker();
      if (!worker) return;
      this.dispatch(worker);
    }
  }

  private leastBusyWorker(): InferenceRunner | undefined {
    let best: InferenceRunner | undefined;
    for (const worker of this.options.workers) {
      if (worker.failed || worker.inFlight >= this.options.maxInFlightPerWorker) continue;
      if (!best || worker.inFlight < best.inFlight) best = worker;
    }
    return best;
  }

  private dispatch(worker: InferenceRunner): void {
    const { featureCount, maxBatchRows } = this.options;
    const now = this.options.monotonicNow();
    const jobs: Job[] = [];
    let rows = 0;
    while (this.queueHead < this.queue.length) {
      const job = this.queue[this.queueHead];
      if (jobs.length > 0 && rows + job.rows > maxBatchRows) break;
      this.queueHead += 1;
      if (job.deadline < now) {
        this.settle(job.rows);
        job.reject(new InferenceTimeoutError(job.timeoutMs));
        continue;
      }
      jobs.push(job);
      rows += job.rows;
    }
    if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.queueHead);
      this.queueHead = 0;
    }
    if (jobs.length === 0) return;

    let features: Float32Array;
    if (jobs.length === 1) features = jobs[0].features;
    else {
      features = new Float32Array(rows * featureCount);
      let offset = 0;
      for (const job of jobs) {
        features.set(job.features, offset);
        offset += job.rows * featureCount;
      }
    }
    worker.run(features, rows).then(
      (result) => this.complete(jobs, rows, result.features, result.probabilities, result.labels),
      (error: Error) => {
        const failure = error instanceof InferenceWorkerError ? error : new InferenceWorkerError(error.message, { cause: error });
        for (const job of jobs) job.reject(failure);
        this.settle(rows);
        this.flush();
      },
    );
  }

  private complete(jobs: readonly Job[], rows: number, features: Float32Array, probabilities: Float32Array, labels: Uint8Array): void {
    const classCount = this.options.classCount;
    const requestIds: string[] = new Array<string>(jobs.length);
    const rowsPerRequest = new Uint32Array(jobs.length);
    let row = 0;
    for (let index = 0; index < jobs.length; index++) {
      const job = jobs[index];
      requestIds[index] = job.requestId;
      rowsPerRequest[index] = job.rows;
      job.resolve({
        probabilities: probabilities.subarray(row * classCount, (row + job.rows) * classCount),
        labels: labels.subarray(row, row + job.rows),
      });
      row += job.rows;
    }
    this.settle(rows);
    this.flush();
    this.options.onBatch?.({ rows, features, probabilities, labels, requestIds, rowsPerRequest });
  }

  private settle(rows: number): void {
    this.pendingRows -= rows;
    if (this.pendingRows === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const waiter of waiters) waiter();
    }
  }
}
