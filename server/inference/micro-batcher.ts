/**
 * Micro-batching: prediction requests that arrive while the workers are busy travel to a worker
 * together and share one ONNX Runtime `run`. There is no fixed wait: a batch leaves as soon as a
 * worker has room (at the end of the current event-loop turn, so requests read in the same turn
 * travel together), and whatever queues while the workers compute leaves together next. Light load
 * gets batches of one and no added latency; heavy load gets large batches, fewer messages and runs.
 *
 * Admission control, decided before a request's body is read and again when it is queued:
 * - the expected wait: the work queued and running ahead (body bytes plus a fixed share per request)
 *   times what the workers took per unit of work over the last few megabytes of it, spread over the
 *   workers (0 while a worker is idle and nothing waits), plus how long the server's own event loop
 *   has been busy per turn (a request read in one turn is answered in the next: with a thousand
 *   connections the HTTP work of a turn, not the workers, is the queue). Beyond the latency budget a request is
 *   refused at once (OverloadedError → 503 + Retry-After), so that the requests accepted are answered
 *   within the budget instead of everyone waiting longer. No estimate, no shedding, until the workers
 *   have done some work (a cold start is slow and would shed for nothing);
 * - hard bounds: at most `maxQueuedRequests` requests and `maxQueuedBytes` of bodies wait or run
 *   (InferenceQueueFullError).
 * An empty queue always takes one request. A request not answered by its deadline, waiting or
 * running, gets InferenceTimeoutError at the deadline (a running one's late result is dropped).
 */
import { InferenceQueueFullError, InferenceTimeoutError, InferenceWorkerError, OverloadedError } from '../errors';
import type { BodyProblem, BodyShape, RunResult } from './protocol';

/** What runs a batch: an InferenceWorker (or a stand-in in tests). */
export interface InferenceRunner {
  /** Batches sent and not answered yet. */
  readonly inFlight: number;
  readonly failed: boolean;
  /** Predicts for request bodies (the runner may keep them). */
  run(shapes: readonly BodyShape[], bodies: readonly Uint8Array[]): Promise<RunResult>;
}

/**
 * One request's answer: where its predictions are in its batch's buffers (rows `firstRow` … `firstRow
 * + rows - 1`; no views are made per request), or why its body was refused.
 */
export type RequestOutcome =
  | {
    readonly ok: true;
    readonly rows: number;
    readonly firstRow: number;
    /** The whole batch's probabilities (rows × classes): read-only. */
    readonly batchProbabilities: Float32Array;
    /** The whole batch's labels: read-only. */
    readonly batchLabels: Uint8Array;
    /** The predictions as JSON text (see RunReply.text). */
    readonly predictionsJson: string;
  }
  | { readonly ok: false; readonly problem: BodyProblem };

/** How a request's answer is delivered without a promise (the HTTP fast path's way). */
export type RequestCallback = (error: Error | undefined, outcome: RequestOutcome | undefined) => void;

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
  /** A request is refused when the work ahead of it would take longer than this (milliseconds). */
  readonly latencyBudgetMs: number;
  /** Milliseconds since an arbitrary origin (deadlines are in this clock). */
  readonly monotonicNow: () => number;
  /**
   * Milliseconds the event loop has been busy since an arbitrary origin (the turn length is measured
   * with it). @default `performance.eventLoopUtilization().active`
   */
  readonly loopBusyMs?: () => number;
  readonly onBatch?: (batch: CompletedBatch) => void;
}

/**
 * The work of one request, in body bytes: its bytes plus this fixed share (parsing and answering a
 * request costs a worker about as much as reading this many bytes of basket lines).
 */
export const REQUEST_WORK_BYTES = 512;
/** The cost estimate covers about this much recent work (older batches fade out). */
const ESTIMATE_WINDOW_WORK = 4 * 1024 * 1024;
/**
 * The turn length counted is the shortest of the last this many turns with requests: a standing
 * queue makes every turn long, while one long turn (a model loading, a collection) passes.
 */
const TURN_WINDOW = 8;
/** Turns measured before a pause longer than this are forgotten. */
const TURN_RESET_MS = 1000;
/** Work observed before the estimate is used (until then nothing is shed for its expected wait). */
const MIN_ESTIMATE_WORK = 256 * 1024;

interface Job {
  readonly shape: BodyShape;
  readonly body: Uint8Array;
  readonly requestId: string;
  readonly deadline: number;
  readonly timeoutMs: number;
  /** Called once, with the outcome or the error (InferenceTimeoutError, InferenceWorkerError). */
  readonly settled: RequestCallback;
  /** Answered (or timed out): a late result is dropped. */
  done: boolean;
  /** Sent to a worker. */
  running: boolean;
}

export class MicroBatcher {
  private queue: Job[] = [];
  private queueHead = 0;
  /** Every job not answered yet, waiting or running (deadlines are checked over it). */
  private readonly open = new Set<Job>();
  private pendingRequests = 0;
  private pendingBytes = 0;
  /** Jobs queued and not sent to a worker yet (timed-out ones excluded). */
  private waitingRequests = 0;
  private flushScheduled = false;
  private idleWaiters: (() => void)[] = [];
  /** Worker milliseconds and units of work (body bytes + REQUEST_WORK_BYTES per request) of the recent batches. */
  private observedMs = 0;
  private observedWork = 0;
  /** Busy milliseconds of the event loop in the last turns with requests (a ring), and where the last turn began. */
  private readonly turns = new Float64Array(TURN_WINDOW);
  private turnsMeasured = 0;
  private lastTurnBusy: number | undefined;
  private lastTurnAt = 0;
  private readonly loopBusyMs: () => number;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private deadlineTimerAt = Infinity;

  constructor(private readonly options: MicroBatcherOptions) {
    this.loopBusyMs = options.loopBusyMs ?? (() => performance.eventLoopUtilization().active);
  }

  /** Requests waiting or running. */
  get queuedRequests(): number {
    return this.pendingRequests;
  }

  /** Body bytes waiting or running. */
  get queuedBytes(): number {
    return this.pendingBytes;
  }

  /**
   * Milliseconds a request arriving now is expected to wait: for the workers, the work queued and
   * running ahead of it at the cost per unit the last batches took, spread over the workers; for the
   * event loop, the length of its recent turns.
   */
  get expectedWaitMs(): number {
    if (this.observedWork < MIN_ESTIMATE_WORK || this.pendingRequests === 0) return 0;
    return this.backlogMs() + this.turnMs();
  }

  /** The workers' share of the expected wait (see expectedWaitMs). */
  private backlogMs(): number {
    let workers = 0;
    let idle = false;
    for (const worker of this.options.workers) {
      if (worker.failed) continue;
      workers += 1;
      if (worker.inFlight === 0) idle = true;
    }
    if (idle && this.waitingRequests === 0) return 0;
    const costPerWorkMs = this.observedMs / this.observedWork;
    return ((this.pendingBytes + REQUEST_WORK_BYTES * this.pendingRequests) * costPerWorkMs) / Math.max(1, workers);
  }

  /** The event loop's share of the expected wait: the shortest of its recent turns (0 before any was measured). */
  private turnMs(): number {
    const count = Math.min(this.turnsMeasured, TURN_WINDOW);
    if (count === 0) return 0;
    let shortest = Infinity;
    for (let index = 0; index < count; index++) shortest = Math.min(shortest, this.turns[index]);
    return shortest;
  }

  /** Measures the event loop's busy time since the previous turn with requests (called once a turn, from the flush). */
  private measureTurn(): void {
    const busy = this.loopBusyMs();
    const now = this.options.monotonicNow();
    if (now - this.lastTurnAt > TURN_RESET_MS) this.turnsMeasured = 0;
    if (this.lastTurnBusy !== undefined) {
      this.turns[this.turnsMeasured % TURN_WINDOW] = busy - this.lastTurnBusy;
      this.turnsMeasured += 1;
    }
    this.lastTurnBusy = busy;
    this.lastTurnAt = now;
  }

  /** Forgets what the batches so far cost (a model's warm-up runs cold: its cost says nothing about serving). */
  resetEstimate(): void {
    this.observedMs = 0;
    this.observedWork = 0;
  }

  /** Why a request with a body of `bytes` would be refused now, or undefined when it is admitted (an empty queue always admits). */
  refusal(bytes: number): InferenceQueueFullError | OverloadedError | undefined {
    if (this.pendingRequests === 0) return undefined;
    if (this.pendingRequests >= this.options.maxQueuedRequests || this.pendingBytes + bytes > this.options.maxQueuedBytes) {
      return new InferenceQueueFullError(this.pendingRequests, this.pendingBytes);
    }
    const wait = this.expectedWaitMs;
    return wait > this.options.latencyBudgetMs ? new OverloadedError(wait, this.options.latencyBudgetMs) : undefined;
  }

  /** Whether a request with a body of `bytes` would be admitted now. */
  hasRoomFor(bytes: number): boolean {
    return this.refusal(bytes) === undefined;
  }

  /**
   * Queues one request body (its buffer is the batcher's from now on).
   * @throws InferenceQueueFullError · OverloadedError (synchronously) when it is not admitted
   */
  submit(shape: BodyShape, body: Uint8Array, requestId: string, timeoutMs: number): Promise<RequestOutcome> {
    let settled!: RequestCallback;
    const outcome = new Promise<RequestOutcome>((resolve, reject) => {
      settled = (error, result) => (error ? reject(error) : resolve(result!));
    });
    this.enqueue(shape, body, requestId, timeoutMs, settled);
    return outcome;
  }

  /**
   * As `submit`, with a callback instead of a promise (no promise and no microtask per request).
   * @throws InferenceQueueFullError · OverloadedError (synchronously) when it is not admitted
   */
  enqueue(shape: BodyShape, body: Uint8Array, requestId: string, timeoutMs: number, settled: RequestCallback): void {
    const refusal = this.refusal(body.byteLength);
    if (refusal) throw refusal;
    this.pendingRequests += 1;
    this.pendingBytes += body.byteLength;
    this.waitingRequests += 1;
    const deadline = this.options.monotonicNow() + timeoutMs;
    const job: Job = { shape, body, requestId, deadline, timeoutMs, settled, done: false, running: false };
    this.queue.push(job);
    this.open.add(job);
    if (deadline < this.deadlineTimerAt) this.armDeadlineTimer(deadline);
    this.scheduleFlush();
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
      this.measureTurn();
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
    const jobs: Job[] = [];
    let bytes = 0;
    while (this.queueHead < this.queue.length) {
      const job = this.queue[this.queueHead];
      if (job.done) {
        // timed out while waiting (already settled)
        this.queueHead += 1;
        continue;
      }
      if (jobs.length > 0 && bytes + job.body.byteLength > this.options.maxBatchBytes) break;
      this.queueHead += 1;
      this.waitingRequests -= 1;
      job.running = true;
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
        for (const job of jobs) deliver(this.finish(job), failure, undefined);
        this.flush();
      },
    );
  }

  private complete(jobs: readonly Job[], bytes: number, result: RunResult): void {
    const { rowsPerRequest, problems, probabilities, labels, predictionsJson } = result;
    this.observedMs += result.computeMs;
    this.observedWork += bytes + REQUEST_WORK_BYTES * jobs.length;
    if (this.observedWork > ESTIMATE_WINDOW_WORK) {
      this.observedMs *= ESTIMATE_WINDOW_WORK / this.observedWork;
      this.observedWork = ESTIMATE_WINDOW_WORK;
    }
    const requestIds: string[] = [];
    const validRows: number[] = [];
    let row = 0;
    for (let index = 0; index < jobs.length; index++) {
      const job = this.finish(jobs[index]);
      const problem = problems[index];
      if (problem) {
        deliver(job, undefined, { ok: false, problem });
        continue;
      }
      const rows = rowsPerRequest[index];
      deliver(job, undefined, {
        ok: true,
        rows,
        firstRow: row,
        batchProbabilities: probabilities,
        batchLabels: labels,
        predictionsJson: predictionsJson[index] ?? '[]',
      });
      // a timed-out request's prediction was made all the same: it is logged
      requestIds.push(jobs[index].requestId);
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

  /** Marks a job answered; undefined when it was answered already (timed out). */
  private finish(job: Job): Job | undefined {
    if (job.done) return undefined;
    job.done = true;
    this.open.delete(job);
    return job;
  }

  private settle(requests: number, bytes: number): void {
    this.pendingRequests -= requests;
    this.pendingBytes -= bytes;
    if (this.pendingRequests === 0) {
      this.disarmDeadlineTimer();
      if (this.idleWaiters.length > 0) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const waiter of waiters) waiter();
      }
    }
  }

  private armDeadlineTimer(at: number): void {
    this.disarmDeadlineTimer();
    this.deadlineTimerAt = at;
    this.deadlineTimer = setTimeout(() => this.expire(), Math.max(0, at - this.options.monotonicNow()) + 1);
    this.deadlineTimer.unref();
  }

  private disarmDeadlineTimer(): void {
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    this.deadlineTimer = undefined;
    this.deadlineTimerAt = Infinity;
  }

  /** Answers every request past its deadline with InferenceTimeoutError; re-arms for the next deadline. */
  private expire(): void {
    this.deadlineTimer = undefined;
    this.deadlineTimerAt = Infinity;
    const now = this.options.monotonicNow();
    let next = Infinity;
    for (const job of this.open) {
      if (job.deadline > now) {
        if (job.deadline < next) next = job.deadline;
        continue;
      }
      this.finish(job);
      // a waiting job never runs: its share is released now; a running one's when its batch returns
      if (!job.running) {
        this.waitingRequests -= 1;
        this.settle(1, job.body.byteLength);
      }
      deliver(job, new InferenceTimeoutError(job.timeoutMs), undefined);
    }
    if (next < Infinity) this.armDeadlineTimer(next);
  }
}

/** Hands a job its answer; a callback that throws does not keep the others of its batch from theirs (its error surfaces afterwards, uncaught). */
function deliver(job: Job | undefined, error: Error | undefined, outcome: RequestOutcome | undefined): void {
  if (!job) return;
  try {
    job.settled(error, outcome);
  } catch (thrown) {
    queueMicrotask(() => {
      throw thrown;
    });
  }
}
