/**
 * Micro-batching: prediction requests that arrive while the workers are busy travel to a worker
 * together and share one ONNX Runtime `run`. There is no fixed wait: a batch leaves as soon as a
 * worker has room (at the end of the current event-loop turn, so requests read in the same turn
 * travel together), and whatever queues while the workers compute leaves together next. Light load
 * gets batches of one and no added latency; heavy load gets large batches, fewer messages and runs.
 *
 * Admission control: at most `maxQueuedRequests` requests and `maxQueuedBytes` of bodies may wait or
 * run; a request beyond that is refused at once (InferenceQueueFullError → 503 + Retry-After) rather
 * than queued into unbounded latency. A request still waiting at its deadline is dropped unrun.
 */
import { InferenceQueueFullError, InferenceTimeoutError, InferenceWorkerError } from '../errors';
import type { BodyProblem, BodyShape, RunResult } from './protocol';

/** What runs a batch: an InferenceWorker (or a stand-in in tests). */
export interface InferenceRunner {
  /** Batches sent and not answered yet. */
  readonly inFlight: number;
  readonly failed: boolean;
  /** Predicts for request bodies (the runner may keep or transfer them). */
  run(shapes: readonly BodyShape[], bodies: readonly Uint8Array[]): Promise<RunResult>;
}

/** One request's answer: its predictions (views into the batch's buffers), or why its body was refused. */
export type RequestOutcome =
  | {
    readonly ok: true;
    readonly rows: number;
    readonly probabilities: Float32Array;
    readonly labels: Uint8Array;
    /** The predictions as JSON text (see RunResult.predictionsJson). */
    readonly predictionsJson: string;
  }
  | { readonly ok: false; readonly problem: BodyProblem };

/** A completed batch's valid requests, for the prediction log and metrics. */
export interface CompletedBatch {
  readonly rows: number;
  /** rows × featureCount (the receiver may keep and transfer this buffer). */
  readonly features: Float32Array;
  /** BASKET_ID per row, NaN where none was sent; undefined when no basket had one (the receiver may keep it). */
  readonly basketIds?: Float64Array;
  /** rows × classCount (views of it were handed to the requests: read-only). */
  readonly probabilities: Float32Array;
  readonly labels: Uint8Array;
  /** The requests with predictions, in row order, with their row counts. */
  readonly requestIds: readonly string[];
  readonly rowsPerRequest: Uint32Array;
}

export interface MicroBatcherOptions {
  readonly workers: readonly InferenceRunner[];
  readonly classCount: number;
  /** Body bytes sent in one batch at most (one bigger request travels alone). */
  readonly maxBatchBytes: number;
  /** Requests waiting or running before new ones are refused. */
  readonly maxQueuedRequests: number;
  /** Body bytes waiting or running before new requests are refused. */
  readonly maxQueuedBytes: number;
  /** Batches each worker may have in flight (2 keeps a worker busy while the next batch travels). */
  readonly maxInFlightPerWorker: number;
  /** Milliseconds since an arbitrary origin (deadlines are in this clock). */
  readonly monotonicNow: () => number;
  readonly onBatch?: (batch: CompletedBatch) => void;
}

interface Job {
  readonly shape: BodyShape;
  readonly body: Uint8Array;
  readonly requestId: string;
  readonly deadline: number;
  readonly timeoutMs: number;
  readonly resolve: (outcome: RequestOutcome) => void;
  readonly reject: (error: Error) => void;
}

export class MicroBatcher {
  private queue: Job[] = [];
  private queueHead = 0;
  private pendingRequests = 0;
  private pendingBytes = 0;
  private flushScheduled = false;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly options: MicroBatcherOptions) {}

  /** Requests waiting or running. */
  get queuedRequests(): number {
    return this.pendingRequests;
  }

  /** Body bytes waiting or running. */
  get queuedBytes(): number {
    return this.pendingBytes;
  }

  /** Whether a request with a body of `bytes` would be admitted now (one request always is). */
  hasRoomFor(bytes: number): boolean {
    if (this.pendingRequests === 0) return true;
    return this.pendingRequests < this.options.maxQueuedRequests && this.pendingBytes + bytes <= this.options.maxQueuedBytes;
  }

  /**
   * Queues one request body (its buffer is the batcher's from now on).
   * @throws InferenceQueueFullError (synchronously) when the queue has no room
   */
  submit(shape: BodyShape, body: Uint8Array, requestId: string, timeoutMs: number): Promise<RequestOutcome> {
    if (!this.hasRoomFor(body.byteLength)) throw new InferenceQueueFullError(this.pendingRequests, this.pendingBytes);
    this.pendingRequests += 1;
    this.pendingBytes += body.byteLength;
    return new Promise<RequestOutcome>((resolve, reject) => {
      this.queue.push({ shape, body, requestId, deadline: this.options.monotonicNow() + timeoutMs, timeoutMs, resolve, reject });
      this.scheduleFlush();
    });
  }

  /** Resolves when nothing is queued or running. */
  whenIdle(): Promise<void> {
    if (this.pendingRequests === 0) return Promise.resolve();
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
    const now = this.options.monotonicNow();
    const jobs: Job[] = [];
    let bytes = 0;
    while (this.queueHead < this.queue.length) {
      const job = this.queue[this.queueHead];
      if (jobs.length > 0 && bytes + job.body.byteLength > this.options.maxBatchBytes) break;
      this.queueHead += 1;
      if (job.deadline < now) {
        this.settle(1, job.body.byteLength);
        job.reject(new InferenceTimeoutError(job.timeoutMs));
        continue;
      }
      jobs.push(job);
      bytes += job.body.byteLength;
    }
    if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.queueHead);
      this.queueHead = 0;
    }
    if (jobs.length === 0) return;
    worker.run(
      jobs.map((job) => job.shape),
      jobs.map((job) => job.body),
    ).then(
      (result) => this.complete(jobs, bytes, result),
      (error: Error) => {
        const failure = error instanceof InferenceWorkerError ? error : new InferenceWorkerError(error.message, { cause: error });
        this.settle(jobs.length, bytes);
        for (const job of jobs) job.reject(failure);
        this.flush();
      },
    );
  }

  private complete(jobs: readonly Job[], bytes: number, result: RunResult): void {
    const classCount = this.options.classCount;
    const { rowsPerRequest, problems, probabilities, labels, predictionsJson } = result;
    const requestIds: string[] = [];
    const validRows: number[] = [];
    let row = 0;
    for (let index = 0; index < jobs.length; index++) {
      const job = jobs[index];
      const problem = problems[index];
      if (problem) {
        job.resolve({ ok: false, problem });
        continue;
      }
      const rows = rowsPerRequest[index];
      job.resolve({
        ok: true,
        rows,
        probabilities: probabilities.subarray(row * classCount, (row + rows) * classCount),
        labels: labels.subarray(row, row + rows),
        predictionsJson: predictionsJson[index] ?? '[]',
      });
      requestIds.push(job.requestId);
      validRows.push(rows);
      row += rows;
    }
    this.settle(jobs.length, bytes);
    this.flush();
    if (row > 0) {
      const rowsPerValidRequest = Uint32Array.from(validRows);
      this.options.onBatch?.({ rows: row, features: result.features, basketIds: result.basketIds, probabilities, labels, requestIds, rowsPerRequest: rowsPerValidRequest });
    }
  }

  private settle(requests: number, bytes: number): void {
    this.pendingRequests -= requests;
    this.pendingBytes -= bytes;
    if (this.pendingRequests === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const waiter of waiters) waiter();
    }
  }
}
