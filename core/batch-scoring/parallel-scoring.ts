import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import type { ScoredBaskets, ScoreTask, ScoreWorkerData, ScoreWorkerReady, ScoreWorkerReply } from './protocol';
import type { FeatureStatistics } from '../features/statistics';
import { ENGINE_TOLERANCE, type ScoringEngine, type ScoringEngineName } from '../onnx/row-scorer';
import { startWorker, stopWorker } from '../worker-launcher';

export interface ScoringPoolOptions {
  readonly model: Uint8Array;
  readonly statistics: FeatureStatistics;
  /** @default 'auto' */
  readonly engine?: ScoringEngine;
  /** @default the number of cores */
  readonly workers?: number;
  /** Rows each worker also scores with ONNX Runtime when it uses the compiled engine. @default 1024 */
  readonly verifyRows?: number;
}

export interface ScoringRun {
  readonly engine: ScoringEngineName;
  readonly fallbackReason?: string;
  /** Rows scored by both engines, and their largest difference. */
  readonly verifiedRows: number;
  readonly maxDifference: number;
}

/**
 * Worker threads that read, featurize and score gold baskets, one relation (a group of weeks) per
 * task, handed out as workers free up. Results come back in task order.
 */
export class ScoringPool {
  /** Starts the workers and waits until each has its model and DuckDB session. */
  static async start(options: ScoringPoolOptions): Promise<ScoringPool> {
    const count = Math.max(1, options.workers ?? availableParallelism());
    const workerData: ScoreWorkerData = {
      model: options.model,
      statistics: options.statistics,
      engine: options.engine ?? 'auto',
      verifyRows: options.verifyRows ?? 1024,
    };
    const started = await Promise.allSettled(Array.from({ length: count }, () => startWorker<ScoreWorkerReady>(__dirname, 'score-worker', { workerData })));
    const workers = started.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value.worker] : []));
    const failed = started.find((outcome) => outcome.status === 'rejected');
    if (failed) {
      await Promise.all(workers.map((worker) => stopWorker(worker)));
      throw new Error(`a scoring worker failed to start: ${((failed as PromiseRejectedResult).reason as Error).message}`);
    }
    const first = (started[0] as PromiseFulfilledResult<{ ready: ScoreWorkerReady }>).value.ready;
    return new ScoringPool(workers, first.engine, first.fallbackReason);
  }

  get size(): number {
    return this.workers.length;
  }

  private constructor(
    private readonly workers: readonly Worker[],
    readonly engine: ScoringEngineName,
    readonly fallbackReason: string | undefined,
  ) {}

  /** Scores every relation; `onResult` sees them in order, one at a time. */
  async run(relations: readonly string[], onResult: (index: number, scored: ScoredBaskets) => Promise<void> | void): Promise<ScoringRun> {
    const results = new Map<number, ScoredBaskets>();
    let nextTask = 0;
    let nextDelivery = 0;
    let verifiedRows = 0;
    let maxDifference = 0;
    // Delivery runs beside the workers (a slow writer never holds a worker), one result at a time.
    let delivering = Promise.resolve();
    let deliveryError: unknown;
    const deliver = (): void => {
      delivering = delivering.then(async () => {
        while (deliveryError === undefined && results.has(nextDelivery)) {
          const scored = results.get(nextDelivery)!;
          results.delete(nextDelivery);
          await onResult(nextDelivery, scored);
          nextDelivery += 1;
        }
      }).catch((error: unknown) => {
        deliveryError ??= error;
      });
    };
    const drive = async (worker: Worker): Promise<void> => {
      while (nextTask < relations.length && deliveryError === undefined) {
        const task: ScoreTask = { id: nextTask, relation: relations[nextTask] };
        nextTask += 1;
        worker.postMessage(task);
        const reply = await nextReply(worker);
        if (reply.type === 'error') throw new Error(`scoring ${task.relation}: ${reply.message}`);
        if (reply.verifiedRows > 0) {
          verifiedRows += reply.verifiedRows;
          maxDifference = Math.max(maxDifference, reply.maxDifference);
          if (!(reply.maxDifference <= ENGINE_TOLERANCE)) {
            throw new Error(
              `the compiled engine (${this.engine}) differs from ONNX Runtime by ${reply.maxDifference} on ${reply.verifiedRows} rows (tolerance ${ENGINE_TOLERANCE}): ` +
                'please report it; `--engine onnxruntime` scores with ONNX Runtime only',
            );
          }
        }
        results.set(reply.id, reply);
        deliver();
      }
    };
    await Promise.all(this.workers.map(drive));
    await delivering;
    if (deliveryError !== undefined) throw deliveryError;
    return { engine: this.engine, fallbackReason: this.fallbackReason, verifiedRows, maxDifference };
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((worker) => stopWorker(worker)));
  }
}

/** The worker's next message (or its error / exit as a rejection). */
function nextReply(worker: Worker): Promise<ScoreWorkerReply> {
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    const onMessage = (message: ScoreWorkerReply): void => {
      cleanup();
      resolve(message);
    };
    const onError = (error: Error): void => {
      cleanup();
      reject(error);
    };
    const onExit = (code: number): void => {
      cleanup();
      reject(new Error(`scoring worker exited with code ${code}`));
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
  });
}
