/**
 * The main thread's side of one prediction worker: loads a model into it and sends it batches of
 * request bodies, one message each way per batch (buffers transferred, not copied).
 */
import type { Worker } from 'node:worker_threads';
import { launchWorker } from '../../core/worker-launcher';
import { InferenceWorkerError } from '../errors';
import type { RequestLimits } from '../schemas';
import type { BodyShape, RunResult, SessionSettings, WorkerRequest, WorkerResponse } from './protocol';

interface PendingRun {
  readonly resolve: (result: RunResult) => void;
  readonly reject: (error: Error) => void;
}

export interface InferenceWorkerOptions {
  readonly model: Uint8Array;
  /** The `feature-statistics.json` artifact. */
  readonly statistics: Uint8Array;
  readonly limits: RequestLimits;
  readonly session: SessionSettings;
  /** Called once if the worker fails after loading (exits or throws outside a run). */
  readonly onFailure?: (error: InferenceWorkerError) => void;
  /** How long loading may take. @default 30_000 */
  readonly loadTimeoutMs?: number;
}

/** Bodies from this size on are transferred in their own buffer rather than copied (a batch of ~10 baskets). */
const TRANSFER_WHOLE_BYTES = 16 * 1024;

export class InferenceWorker {
  /**
   * Starts a worker and loads the model into it.
   * @throws InferenceWorkerError when ONNX Runtime refuses the model, the worker dies, or loading times out
   */
  static async start(options: InferenceWorkerOptions): Promise<InferenceWorker> {
    const worker = launchWorker(__dirname, 'model-worker');
    const client = new InferenceWorker(worker, options.onFailure);
    try {
      await client.load(options, options.loadTimeoutMs ?? 30_000);
    } catch (error) {
      await client.terminate();
      throw error;
    }
    return client;
  }

  private readonly pending = new Map<number, PendingRun>();
  private nextId = 1;
  private loadWaiter: { resolve: () => void; reject: (error: Error) => void } | undefined;
  private failure: InferenceWorkerError | undefined;
  private terminating = false;

  private constructor(
    private readonly worker: Worker,
    private readonly onFailure?: (error: InferenceWorkerError) => void,
  ) {
    worker.on('message', (message: WorkerResponse) => this.receive(message));
    worker.on('error', (error) => this.fail(new InferenceWorkerError(`prediction worker crashed: ${error.message}`, { cause: error })));
    worker.on('exit', (code) => {
      if (!this.terminating) this.fail(new InferenceWorkerError(`prediction worker exited with code ${code}`));
    });
  }

  /** Batches sent and not answered yet. */
  get inFlight(): number {
    return this.pending.size;
  }

  get failed(): boolean {
    return this.failure !== undefined;
  }

  /**
   * Predicts for request bodies, which are the worker's from now on: a large body that owns its whole
   * buffer is transferred as it is, the others are copied into one buffer, which is transferred.
   */
  run(shapes: readonly BodyShape[], bodies: readonly Uint8Array[]): Promise<RunResult> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    const own = bodies.map(
      (body) => body.byteLength >= TRANSFER_WHOLE_BYTES && body.byteOffset === 0 && body.buffer instanceof ArrayBuffer && body.byteLength === body.buffer.byteLength,
    );
    let shared = 0;
    for (let index = 0; index < bodies.length; index++) if (!own[index]) shared += bodies[index].byteLength;
    const sharedBytes = new Uint8Array(shared);
    const transfer: ArrayBuffer[] = [sharedBytes.buffer];
    let offset = 0;
    const sent = bodies.map((body, index) => {
      if (own[index]) {
        transfer.push(body.buffer as ArrayBuffer);
        return body;
      }
      sharedBytes.set(body, offset);
      offset += body.byteLength;
      return sharedBytes.subarray(offset - body.byteLength, offset);
    });
    return new Promise<RunResult>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.post({ type: 'run', id, shapes, bodies: sent }, transfer);
    });
  }

  async terminate(): Promise<void> {
    this.terminating = true;
    await this.worker.terminate();
    this.rejectAll(new InferenceWorkerError('prediction worker terminated'));
  }

  private load(options: InferenceWorkerOptions, timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new InferenceWorkerError(`loading the model took longer than ${timeoutMs} ms`)), timeoutMs);
      this.loadWaiter = {
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      this.post({ type: 'load', model: options.model, statistics: options.statistics, limits: options.limits, session: options.session });
    });
  }

  private post(message: WorkerRequest, transfer: ArrayBuffer[] = []): void {
    this.worker.postMessage(message, transfer);
  }

  private receive(message: WorkerResponse): void {
    switch (message.type) {
      case 'loaded':
        this.loadWaiter?.resolve();
        this.loadWaiter = undefined;
        return;
      case 'load-failed':
        this.loadWaiter?.reject(new InferenceWorkerError(`the prediction worker refused the model: ${message.message}`));
        this.loadWaiter = undefined;
        return;
      case 'result': {
        const pending = this.pending.get(message.id);
        this.pending.delete(message.id);
        pending?.resolve(message);
        return;
      }
      case 'run-failed': {
        const pending = this.pending.get(message.id);
        this.pending.delete(message.id);
        pending?.reject(new InferenceWorkerError(`inference failed: ${message.message}`));
        return;
      }
    }
  }

  private fail(error: InferenceWorkerError): void {
    if (this.failure) return;
    this.failure = error;
    this.loadWaiter?.reject(error);
    this.loadWaiter = undefined;
    this.rejectAll(error);
    this.onFailure?.(error);
  }

  private rejectAll(error: Error): void {
    for (const pending of this.pending.values()) pending.reject(error);
    this.pending.clear();
  }
}
