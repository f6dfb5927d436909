/**
 * The main thread's side of one prediction worker: loads a model into it and sends it batches of
 * request bodies, one small message each way per batch; the bytes go through shared memory (see
 * protocol.ts).
 */
import type { Worker } from 'node:worker_threads';
import type { ScoringEngine, ScoringEngineName } from '../../core/onnx/row-scorer';
import { startWorker, stopWorker } from '../../core/worker-launcher';
import { InferenceWorkerError } from '../errors';
import type { RequestLimits } from '../schemas';
import {
  FLAG_BATCH,
  FLAG_OUTSIDE,
  REQUEST_HEADER_WORDS,
  resultLayout,
  type BodyProblem,
  type BodyShape,
  type ModelWorkerData,
  type ModelWorkerReady,
  type RunReply,
  type RunRequest,
  type RunResult,
  type SessionSettings,
  type WorkerRequest,
  type WorkerResponse,
} from './protocol';

export interface InferenceWorkerOptions {
  readonly model: Uint8Array;
  /** The `feature-statistics.json` artifact. */
  readonly statistics: Uint8Array;
  readonly limits: RequestLimits;
  readonly session: SessionSettings;
  /** @default 'auto' (see ModelWorkerData.engine) */
  readonly engine?: ScoringEngine;
  /** Probabilities per row (the model's classes). */
  readonly classCount: number;
  /** Features per row. */
  readonly featureCount: number;
  /** Called once if the worker fails after loading (exits or throws outside a run). */
  readonly onFailure?: (error: InferenceWorkerError) => void;
  /** How long loading may take. @default 30_000 */
  readonly loadTimeoutMs?: number;
}

/** A body from this size on that already lives in a shared buffer of its own travels by reference, not copied. */
export const OUTSIDE_BODY_BYTES = 64 * 1024;
/** A slot's request buffer starts this large and doubles when a batch needs more. */
const INITIAL_SLOT_BYTES = 64 * 1024;
/** A slot buffer grown beyond this is let go after its batch (one huge batch does not pin memory). */
const KEPT_SLOT_BYTES = 4 * 1024 * 1024;

/** One batch place: its request buffer (ours) and result buffer (the worker's), reused batch after batch. */
interface Slot {
  readonly index: number;
  requestBuffer: SharedArrayBuffer | undefined;
  /** The request buffer was not sent to the worker yet. */
  requestBufferNew: boolean;
  resultBuffer: SharedArrayBuffer | undefined;
  busy: boolean;
}

interface PendingRun {
  readonly slot: Slot;
  readonly count: number;
  readonly resolve: (result: RunResult) => void;
  readonly reject: (error: Error) => void;
}

const align8 = (value: number): number => (value + 7) & ~7;

/** Whether a body is a large one in a shared buffer of its own (sent by reference). */
function travelsOutside(body: Uint8Array): boolean {
  return body.byteLength >= OUTSIDE_BODY_BYTES && body.buffer instanceof SharedArrayBuffer;
}

export class InferenceWorker {
  /**
   * Starts a worker and loads the model into it.
   * @throws InferenceWorkerError when ONNX Runtime refuses the model, the worker dies, or loading times out
   */
  static async start(options: InferenceWorkerOptions): Promise<InferenceWorker> {
    const workerData: ModelWorkerData = { model: options.model, statistics: options.statistics, limits: options.limits, session: options.session, engine: options.engine ?? 'auto' };
    try {
      const { worker, ready } = await startWorker<ModelWorkerReady>(__dirname, 'model-worker', { workerData, readyTimeoutMs: options.loadTimeoutMs ?? 30_000 });
      return new InferenceWorker(worker, ready, options.classCount, options.featureCount, options.onFailure);
    } catch (error) {
      throw new InferenceWorkerError(`the prediction worker could not load the model: ${(error as Error).message}`, { cause: error });
    }
  }

  private readonly pending = new Map<number, PendingRun>();
  private readonly slots: Slot[] = [];
  private nextId = 1;
  private failure: InferenceWorkerError | undefined;
  private stopping = false;
  /** Why the compiled engine gave way to ONNX Runtime while serving. */
  private engineFallback: string | undefined;

  private constructor(
    private readonly worker: Worker,
    /** What the worker reported once loaded: the engine that scores. */
    private readonly ready: ModelWorkerReady,
    private readonly classCount: number,
    private readonly featureCount: number,
    private readonly onFailure?: (error: InferenceWorkerError) => void,
  ) {
    worker.on('message', (message: WorkerResponse) => this.receive(message));
    worker.on('error', (error) => this.fail(new InferenceWorkerError(`prediction worker crashed: ${error.message}`, { cause: error })));
    worker.on('exit', (code) => {
      if (!this.stopping) this.fail(new InferenceWorkerError(`prediction worker exited with code ${code}`));
    });
  }

  /** The engine that scores in this worker (see core/onnx/row-scorer.ts). */
  get engine(): ScoringEngineName {
    return this.engineFallback ? 'onnxruntime' : this.ready.engine;
  }

  /** Why no compiled engine scores, when none does. */
  get fallbackReason(): string | undefined {
    return this.engineFallback ?? this.ready.fallbackReason;
  }

  /** Batches sent and not answered yet. */
  get inFlight(): number {
    return this.pending.size;
  }

  get failed(): boolean {
    return this.failure !== undefined;
  }

  /**
   * Predicts for request bodies. They are copied into a free slot's shared buffer (a large body that
   * already owns a shared buffer travels by reference instead: it must not change from now on).
   */
  run(shapes: readonly BodyShape[], bodies: readonly Uint8Array[]): Promise<RunResult> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    const count = bodies.length;
    const headerBytes = align8(4 * REQUEST_HEADER_WORDS * count);
    let needed = headerBytes;
    for (const body of bodies) if (!travelsOutside(body)) needed += align8(body.byteLength);
    const slot = this.freeSlot(needed);
    const buffer = slot.requestBuffer!;
    const header = new Uint32Array(buffer, 0, REQUEST_HEADER_WORDS * count);
    const bytes = new Uint8Array(buffer);
    let outside: { index: number; body: Uint8Array }[] | undefined;
    let offset = headerBytes;
    for (let index = 0; index < count; index++) {
      const body = bodies[index];
      let flags = shapes[index] === 'batch' ? FLAG_BATCH : 0;
      if (travelsOutside(body)) {
        (outside ??= []).push({ index, body });
        flags |= FLAG_OUTSIDE;
        header[index * REQUEST_HEADER_WORDS] = 0;
      } else {
        bytes.set(body, offset);
        header[index * REQUEST_HEADER_WORDS] = offset;
        offset += align8(body.byteLength);
      }
      header[index * REQUEST_HEADER_WORDS + 1] = body.byteLength;
      header[index * REQUEST_HEADER_WORDS + 2] = flags;
    }
    const message: RunRequest = {
      type: 'run',
      id,
      slot: slot.index,
      count,
      ...(slot.requestBufferNew ? { requestBuffer: buffer } : {}),
      ...(outside ? { outside } : {}),
    };
    slot.requestBufferNew = false;
    return new Promise<RunResult>((resolve, reject) => {
      this.pending.set(id, { slot, count, resolve, reject });
      this.post(message);
    });
  }

  /** A slot that is not in use, with a request buffer of at least `bytes`. */
  private freeSlot(bytes: number): Slot {
    let slot = this.slots.find((candidate) => !candidate.busy);
    if (!slot) {
      slot = { index: this.slots.length, requestBuffer: undefined, requestBufferNew: false, resultBuffer: undefined, busy: false };
      this.slots.push(slot);
    }
    const capacity = slot.requestBuffer?.byteLength ?? 0;
    if (capacity < bytes) {
      let size = Math.max(INITIAL_SLOT_BYTES, capacity);
      while (size < bytes) size *= 2;
      slot.requestBuffer = new SharedArrayBuffer(size);
      slot.requestBufferNew = true;
    }
    slot.busy = true;
    return slot;
  }

  /** The slot is free again; a buffer that grew huge for one batch is let go. */
  private releaseSlot(slot: Slot): void {
    slot.busy = false;
    if ((slot.requestBuffer?.byteLength ?? 0) > KEPT_SLOT_BYTES) slot.requestBuffer = undefined;
  }

  /** Copies a batch's answer out of the slot's result buffer (the slot is reused at once). */
  private readResult(pending: PendingRun, reply: RunReply): RunResult {
    const { slot, count } = pending;
    if (reply.resultBuffer) slot.resultBuffer = reply.resultBuffer;
    const buffer = slot.resultBuffer;
    const rows = reply.rows;
    const layout = resultLayout(count, rows, this.classCount, this.featureCount);
    if (!buffer || buffer.byteLength < layout.bytes) throw new Error(`the result of batch ${reply.id} does not fit its slot`);
    const rowsPerRequest = new Uint32Array(buffer, layout.rowsPerRequest, count).slice();
    const textEnds = new Uint32Array(buffer, layout.textEnds, count);
    const problems: (BodyProblem | null)[] = new Array<BodyProblem | null>(count).fill(null);
    for (const { index, problem } of reply.problems ?? []) problems[index] = problem;
    const predictionsJson = new Array<string | null>(count);
    let start = 0;
    for (let index = 0; index < count; index++) {
      const end = textEnds[index];
      predictionsJson[index] = problems[index] ? null : reply.text.slice(start, end);
      start = end;
    }
    return {
      rowsPerRequest,
      problems,
      probabilities: new Float32Array(buffer, layout.probabilities, rows * this.classCount).slice(),
      features: new Float32Array(buffer, layout.features, rows * this.featureCount).slice(),
      ...(reply.hasBasketIds ? { basketIds: new Float64Array(buffer, layout.basketIds, rows).slice() } : {}),
      labels: new Uint8Array(buffer, layout.labels, rows).slice(),
      predictionsJson,
      computeMs: reply.computeMs,
    };
  }

  /** Stops the worker (the batches sent before finish first, within stopWorker's grace period); batches left unanswered are rejected. */
  async stop(): Promise<void> {
    this.stopping = true;
    await stopWorker(this.worker);
    this.rejectAll(new InferenceWorkerError('prediction worker stopped'));
  }

  private post(message: WorkerRequest): void {
    this.worker.postMessage(message);
  }

  private receive(message: WorkerResponse): void {
    switch (message.type) {
      case 'result': {
        if (message.engineFallback) this.engineFallback = message.engineFallback;
        const pending = this.pending.get(message.id);
        if (!pending) return;
        this.pending.delete(message.id);
        let result: RunResult;
        try {
          result = this.readResult(pending, message);
        } catch (error) {
          this.releaseSlot(pending.slot);
          pending.reject(new InferenceWorkerError(`inference failed: ${(error as Error).message}`));
          return;
        }
        this.releaseSlot(pending.slot);
        pending.resolve(result);
        return;
      }
      case 'run-failed': {
        const pending = this.pending.get(message.id);
        if (!pending) return;
        this.pending.delete(message.id);
        this.releaseSlot(pending.slot);
        pending.reject(new InferenceWorkerError(`inference failed: ${message.message}`));
        return;
      }
    }
  }

  private fail(error: InferenceWorkerError): void {
    if (this.failure) return;
    this.failure = error;
    this.rejectAll(error);
    this.onFailure?.(error);
  }

  private rejectAll(error: Error): void {
    for (const pending of this.pending.values()) {
      this.releaseSlot(pending.slot);
      pending.reject(error);
    }
    this.pending.clear();
  }
}
