/**
 * One model version being served: prediction worker(s) holding its ONNX session and feature
 * statistics, behind a micro-batcher. Loading checks everything before the model may serve: the
 * registry gives the bytes and the `feature-statistics.json` artifact, the ONNX metadata names this
 * deployment's feature spec (hash) and the classes LA/MM/UM, the statistics are well-formed (the one
 * loader of a registered model, core/registry/registered-model.ts, checks these), ONNX Runtime accepts the graph, and warm-up predictions give sane probabilities. Any failure refuses the
 * model (ModelRefusedError).
 */
import { FEATURE_COUNT } from '../../core/features/spec';
import type { OnnxModelInfo } from '../../core/onnx/metadata';
import type { ScoringEngine, ScoringEngineName } from '../../core/onnx/row-scorer';
import type { ModelRegistry } from '../../core/registry/port';
import { checkModelFiles, fetchModelFiles, type RegisteredModel, type RegisteredModelFiles } from '../../core/registry/registered-model';
import type { ModelVersion } from '../../core/registry/types';
import { PRICE_SENSITIVITY_CLASSES, type Basket } from '../../core/schema/lgsr';
import { ModelRefusedError, type InferenceQueueFullError, type ModelLoadStage, type OverloadedError } from '../errors';
import { InferenceWorker } from '../inference/inference-worker';
import { MicroBatcher, type CompletedBatch, type RequestCallback, type RequestOutcome } from '../inference/micro-batcher';
import type { BodyShape } from '../inference/protocol';
import type { RequestLimits } from '../schemas';

export const CLASS_COUNT = PRICE_SENSITIVITY_CLASSES.length;

/** How the inference of one served model runs. */
export interface InferenceSettings {
  readonly workers: number;
  readonly intraOpThreads: number;
  readonly interOpThreads: number;
  readonly maxBatchBytes: number;
  readonly maxQueuedRequests: number;
  readonly maxQueuedBytes: number;
  readonly maxInFlightBatchesPerWorker: number;
  readonly latencyBudgetMs: number;
  readonly limits: RequestLimits;
  /**
   * `auto`: a compiled engine scores tree ensembles and linear classifiers, checked against ONNX
   * Runtime on the warm-up and first requests (it gives way to ONNX Runtime where they differ beyond
   * ENGINE_TOLERANCE); `onnxruntime`: ONNX Runtime only. @default 'auto'
   */
  readonly engine?: ScoringEngine;
}

export interface ServedModelHooks {
  readonly monotonicNow: () => number;
  /** Every completed batch of this model. */
  readonly onBatch?: (model: ServedModel, batch: CompletedBatch) => void;
  /** A worker failed after loading (the model can no longer serve reliably). */
  readonly onWorkerFailure?: (model: ServedModel, error: Error) => void;
}

/** A basket that exercises every feature path (known and unknown codes), for warm-up. */
export const WARM_UP_BASKET: Basket = {
  context: {
    STORE_CODE: 'STORE00001',
    STORE_FORMAT: 'LS',
    STORE_REGION: 'E02',
    SHOP_WEEKDAY: 7,
    SHOP_HOUR: 19,
    BASKET_TYPE: 'Full Shop',
    BASKET_DOMINANT_MISSION: 'Mixed',
  },
  lines: [
    { PROD_CODE: 'PRD0900033', PROD_CODE_10: 'CL00201', PROD_CODE_20: 'DEP00067', PROD_CODE_30: 'G00021', PROD_CODE_40: 'D00005', QUANTITY: 1, SPEND: 0.93 },
    { PROD_CODE: 'PRD0900097', PROD_CODE_10: 'CL00001', PROD_CODE_20: 'DEP00001', PROD_CODE_30: 'G00001', PROD_CODE_40: 'D00001', QUANTITY: 2, SPEND: 2.06 },
    { PROD_CODE: 'PRD0999999', PROD_CODE_10: 'CL09999', PROD_CODE_20: 'DEP09999', PROD_CODE_30: 'G09999', PROD_CODE_40: 'D09999', QUANTITY: 1, SPEND: 5 },
  ],
};

/** WARM_UP_BASKET with its hour, weekday, lines, quantities and spends varied by `index` (deterministic). */
export function warmUpVariant(index: number): Basket {
  const lines = WARM_UP_BASKET.lines.filter((_, line) => line === 0 || (index >> line) % 2 === 0);
  return {
    context: { ...WARM_UP_BASKET.context, SHOP_HOUR: 8 + (index % 14), SHOP_WEEKDAY: 1 + (index % 7) },
    lines: lines.map((line, position) => ({
      ...line,
      QUANTITY: 1 + ((index + position) % 4),
      SPEND: Math.round(line.SPEND * (1 + ((index * 7 + position * 3) % 23) / 4) * 100) / 100,
    })),
  };
}

const encoder = new TextEncoder();

export class ServedModel {
  /**
   * Fetches, checks, loads and warms a model version.
   * @throws ModelRefusedError (its `stage` tells where it failed)
   */
  static async load(registry: ModelRegistry, reference: string, settings: InferenceSettings, hooks: ServedModelHooks): Promise<ServedModel> {
    const refuse = (stage: ModelLoadStage, error: unknown, id = reference): ModelRefusedError =>
      error instanceof ModelRefusedError ? error : new ModelRefusedError(id, stage, (error as Error).message ?? String(error), { cause: error });

    let files: RegisteredModelFiles;
    try {
      files = await fetchModelFiles(registry, reference);
    } catch (error) {
      throw refuse('fetch', error);
    }
    const { version } = files;
    let checked: RegisteredModel;
    try {
      checked = checkModelFiles(files);
    } catch (error) {
      throw refuse('check', error, version.id);
    }
    const { bytes, info, statisticsArtifact: statisticsBytes } = checked;

    const workers: InferenceWorker[] = [];
    let model: ServedModel | undefined;
    const onFailure = (error: Error): void => {
      if (model) hooks.onWorkerFailure?.(model, error);
    };
    try {
      const started = await Promise.allSettled(
        Array.from({ length: settings.workers }, () =>
          InferenceWorker.start({
            model: bytes,
            statistics: statisticsBytes,
            limits: settings.limits,
            session: { intraOpThreads: settings.intraOpThreads, interOpThreads: settings.interOpThreads },
            engine: settings.engine ?? 'auto',
            classCount: CLASS_COUNT,
            featureCount: FEATURE_COUNT,
            onFailure,
          }),
        ),
      );
      for (const outcome of started) if (outcome.status === 'fulfilled') workers.push(outcome.value);
      const failed = started.find((outcome) => outcome.status === 'rejected');
      if (failed) throw (failed as PromiseRejectedResult).reason;
    } catch (error) {
      await Promise.all(workers.map((worker) => worker.stop()));
      throw refuse('load', error, version.id);
    }

    model = new ServedModel(version, info, workers, settings, hooks);
    try {
      await model.warmUp();
    } catch (error) {
      await model.close();
      throw refuse('warm-up', error, version.id);
    }
    return model;
  }

  readonly loadedAt = new Date();
  private readonly batcher: MicroBatcher;
  private warm = false;
  private closed = false;

  private constructor(
    readonly version: ModelVersion,
    readonly info: OnnxModelInfo,
    private readonly workers: readonly InferenceWorker[],
    private readonly settings: InferenceSettings,
    private readonly hooks: ServedModelHooks,
  ) {
    this.batcher = new MicroBatcher({
      workers,
      classCount: CLASS_COUNT,
      maxBatchBytes: settings.maxBatchBytes,
      maxQueuedRequests: settings.maxQueuedRequests,
      maxQueuedBytes: settings.maxQueuedBytes,
      maxInFlightPerWorker: settings.maxInFlightBatchesPerWorker,
      latencyBudgetMs: settings.latencyBudgetMs,
      monotonicNow: hooks.monotonicNow,
      onBatch: (batch) => {
        if (this.warm) this.hooks.onBatch?.(this, batch);
      },
    });
  }

  get id(): string {
    return this.version.id;
  }

  /** The engine that scores (ONNX Runtime once any worker's compiled engine gave way to it). */
  get engine(): ScoringEngineName {
    return this.workers.find((worker) => worker.engine === 'onnxruntime')?.engine ?? this.workers[0].engine;
  }

  /** Why no compiled engine scores, when none does. */
  get engineFallbackReason(): string | undefined {
    return this.workers.find((worker) => worker.fallbackReason !== undefined)?.fallbackReason;
  }

  /** False once a worker failed (the model service replaces the model). */
  get healthy(): boolean {
    return !this.closed && this.workers.every((worker) => !worker.failed);
  }

  /** Requests waiting or running. */
  get queuedRequests(): number {
    return this.batcher.queuedRequests;
  }

  /** Body bytes waiting or running. */
  get queuedBytes(): number {
    return this.batcher.queuedBytes;
  }

  /** Milliseconds a request arriving now is expected to wait for the workers (see MicroBatcher). */
  get expectedWaitMs(): number {
    return this.batcher.expectedWaitMs;
  }

  /** Why a request with a body of `bytes` would be refused now (queue full, over the latency budget), or undefined. */
  refusal(bytes: number): InferenceQueueFullError | OverloadedError | undefined {
    return this.batcher.refusal(bytes);
  }

  /**
   * Queues a request body (UTF-8 JSON: one basket, or `{baskets}`; its buffer is the model's from
   * now on). A worker validates it, computes the features (BasketFeatures.compute, as in training)
   * and predicts, batched with the requests around it.
   * @throws InferenceQueueFullError · OverloadedError synchronously when it is not admitted
   */
  predict(shape: BodyShape, body: Uint8Array, requestId: string, timeoutMs: number): Promise<RequestOutcome> {
    return this.batcher.submit(shape, body, requestId, timeoutMs);
  }

  /**
   * As `predict`, answering through a callback (no promise per request: the HTTP fast path).
   * @throws InferenceQueueFullError · OverloadedError synchronously when it is not admitted
   */
  predictWith(shape: BodyShape, body: Uint8Array, requestId: string, timeoutMs: number, settled: RequestCallback): void {
    this.batcher.enqueue(shape, body, requestId, timeoutMs, settled);
  }

  /** Waits for queued and running predictions, then stops the workers. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.batcher.whenIdle();
    this.closed = true;
    await Promise.all(this.workers.map((worker) => worker.stop()));
  }

  /**
   * A small and a large batch through every worker, checked for sane probabilities. The large one's
   * baskets differ (warmUpVariant): they are the first rows a compiled engine is checked on against
   * ONNX Runtime (model-worker.ts).
   */
  private async warmUp(): Promise<void> {
    const small = encoder.encode(JSON.stringify(WARM_UP_BASKET));
    const large = JSON.stringify({ baskets: Array.from({ length: Math.min(64, this.settings.limits.maxBasketsPerBatch) }, (_, index) => warmUpVariant(index)) });
    const checks: Promise<RequestOutcome>[] = [];
    for (let index = 0; index < this.workers.length; index++) {
      checks.push(this.predict('basket', small.slice(), 'warm-up', 30_000), this.predict('batch', encoder.encode(large), 'warm-up', 30_000));
    }
    for (const outcome of await Promise.all(checks)) {
      if (!outcome.ok) throw new Error(`the warm-up basket was refused: ${outcome.problem.detail}`);
      for (let row = 0; row < outcome.rows; row++) {
        let sum = 0;
        for (let k = 0; k < CLASS_COUNT; k++) {
          const probability = outcome.batchProbabilities[(outcome.firstRow + row) * CLASS_COUNT + k];
          if (!Number.isFinite(probability) || probability < 0 || probability > 1) throw new Error(`warm-up probability ${probability} is not in [0, 1]`);
          sum += probability;
        }
        if (Math.abs(sum - 1) > 1e-3) throw new Error(`warm-up probabilities sum to ${sum}, not 1`);
      }
    }
    this.batcher.resetEstimate();
    this.warm = true;
  }
}
