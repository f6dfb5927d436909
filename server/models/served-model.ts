/**
 * One model version being served: its ONNX session in inference worker(s) behind a micro-batcher,
 * and the feature statistics it ships with. Loading checks everything before the model may serve:
 * the registry gives the bytes and the `feature-statistics.json` artifact, the ONNX metadata names
 * this deployment's feature spec (hash) and the classes LA/MM/UM, ONNX Runtime accepts the graph, and
 * a warm-up prediction gives sane probabilities. Any failure refuses the model (ModelRefusedError).
 */
import { basketBatchFromBaskets } from '../../core/features/basket-batch';
import { BasketFeatures } from '../../core/features/compute';
import { FEATURE_COUNT, FEATURE_SPEC } from '../../core/features/spec';
import {
  PRICE_LEVELS,
  STATISTICS_LEVELS,
  statisticsFromDocument,
  type FeatureStatistics,
  type FeatureStatisticsDocument,
} from '../../core/features/statistics';
import { assertFeatureSpec, readOnnxMetadata, type OnnxModelInfo } from '../../core/onnx/metadata';
import type { ModelRegistry } from '../../core/registry/port';
import { ARTIFACT_NAMES, type ModelVersion } from '../../core/registry/types';
import { PRICE_SENSITIVITY_CLASSES, type Basket } from '../../core/schema/lgsr';
import { ModelRefusedError, type ModelLoadStage } from '../errors';
import { InferenceWorker } from '../inference/inference-worker';
import { MicroBatcher, type CompletedBatch, type JobResult } from '../inference/micro-batcher';

export const CLASS_COUNT = PRICE_SENSITIVITY_CLASSES.length;

/** How the inference of one served model runs. */
export interface InferenceSettings {
  readonly workers: number;
  readonly intraOpThreads: number;
  readonly interOpThreads: number;
  readonly maxBatchRows: number;
  readonly maxQueuedBaskets: number;
  readonly maxInFlightBatchesPerWorker: number;
}

export interface ServedModelHooks {
  readonly monotonicNow: () => number;
  /** Every completed run of this model. */
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

/** Rows the warm-up runs (a small and a full-size batch, so both paths are allocated before traffic). */
const WARM_UP_ROWS = [1, 64] as const;

export class ServedModel {
  /**
   * Fetches, checks, loads and warms a model version.
   * @throws ModelRefusedError (the stage tells where it failed)
   */
  static async load(registry: ModelRegistry, reference: string, settings: InferenceSettings, hooks: ServedModelHooks): Promise<ServedModel> {
    const refuse = (stage: ModelLoadStage, error: unknown, id = reference): ModelRefusedError =>
      error instanceof ModelRefusedError ? error : new ModelRefusedError(id, stage, (error as Error).message ?? String(error), { cause: error });

    let version: ModelVersion;
    let bytes: Uint8Array;
    let statisticsBytes: Uint8Array;
    try {
      version = await registry.get(reference);
      [bytes, statisticsBytes] = await Promise.all([
        registry.getModelBytes(version.id),
        registry.getArtifact(version.id, ARTIFACT_NAMES.featureStatistics),
      ]);
    } catch (error) {
      throw refuse('fetch', error);
    }

    let info: OnnxModelInfo;
    let statistics: FeatureStatistics;
    try {
      info = readOnnxMetadata(bytes);
      assertFeatureSpec(info, FEATURE_SPEC);
      if (info.featureNames.length !== FEATURE_COUNT || info.featureNames.some((name, index) => name !== FEATURE_SPEC.names[index])) {
        throw new Error(`the model's feature names differ from feature spec ${FEATURE_SPEC.version}`);
      }
      if (info.classLabels.length !== CLASS_COUNT || info.classLabels.some((label, index) => label !== PRICE_SENSITIVITY_CLASSES[index])) {
        throw new Error(`the model's classes are ${JSON.stringify(info.classLabels)}, expected ${JSON.stringify(PRICE_SENSITIVITY_CLASSES)}`);
      }
      statistics = parseStatisticsArtifact(statisticsBytes);
    } catch (error) {
      throw refuse('check', error, version.id);
    }

    const workers: InferenceWorker[] = [];
    let model: ServedModel | undefined;
    const onFailure = (error: Error): void => {
      if (model) hooks.onWorkerFailure?.(model, error);
    };
    try {
      for (let index = 0; index < settings.workers; index++) {
        workers.push(
          await InferenceWorker.start({
            model: bytes,
            featureCount: FEATURE_COUNT,
            classCount: CLASS_COUNT,
            session: { intraOpThreads: settings.intraOpThreads, interOpThreads: settings.interOpThreads },
            onFailure,
          }),
        );
      }
    } catch (error) {
      await Promise.all(workers.map((worker) => worker.terminate()));
      throw refuse('load', error, version.id);
    }

    model = new ServedModel(version, info, new BasketFeatures(statistics), workers, settings, hooks);
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
    private readonly features: BasketFeatures,
    private readonly workers: readonly InferenceWorker[],
    settings: InferenceSettings,
    private readonly hooks: ServedModelHooks,
  ) {
    this.batcher = new MicroBatcher({
      workers,
      featureCount: FEATURE_COUNT,
      classCount: CLASS_COUNT,
      maxBatchRows: settings.maxBatchRows,
      maxQueuedRows: settings.maxQueuedBaskets,
      maxInFlightPerWorker: settings.maxInFlightBatchesPerWorker,
      monotonicNow: hooks.monotonicNow,
      onBatch: (batch) => {
        if (this.warm) this.hooks.onBatch?.(this, batch);
      },
    });
  }

  get id(): string {
    return this.version.id;
  }

  /** False once a worker failed (the model service replaces the model). */
  get healthy(): boolean {
    return !this.closed && this.workers.every((worker) => !worker.failed);
  }

  /** Baskets waiting or running. */
  get queuedBaskets(): number {
    return this.batcher.queuedRows;
  }

  hasRoomFor(baskets: number): boolean {
    return this.batcher.hasRoomFor(baskets);
  }

  /**
   * Features of `baskets` (computed here, on the calling thread, by the same function batch training
   * uses) queued for one inference run.
   * @throws InferenceQueueFullError synchronously when the queue has no room
   */
  predict(baskets: readonly Basket[], requestId: string, timeoutMs: number): Promise<JobResult> {
    const rows = baskets.length;
    const batch = basketBatchFromBaskets(baskets);
    const values = new Float32Array(rows * FEATURE_COUNT);
    for (let index = 0; index < rows; index++) this.features.compute(batch, index, values, index * FEATURE_COUNT);
    return this.batcher.submit(values, rows, requestId, timeoutMs);
  }

  /** Waits for queued and running predictions, then stops the workers. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.batcher.whenIdle();
    this.closed = true;
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }

  private async warmUp(): Promise<void> {
    for (const rows of WARM_UP_ROWS) {
      const baskets = Array.from({ length: rows }, () => WARM_UP_BASKET);
      const result = await this.predict(baskets, 'warm-up', 30_000);
      for (let row = 0; row < rows; row++) {
        let sum = 0;
        for (let k = 0; k < CLASS_COUNT; k++) {
          const probability = result.probabilities[row * CLASS_COUNT + k];
          if (!Number.isFinite(probability) || probability < 0 || probability > 1) throw new Error(`warm-up probability ${probability} is not in [0, 1]`);
          sum += probability;
        }
        if (Math.abs(sum - 1) > 1e-3) throw new Error(`warm-up probabilities sum to ${sum}, not 1`);
      }
    }
    this.warm = true;
  }
}

/**
 * The `feature-statistics.json` artifact, checked for the shape the feature function reads.
 * @throws Error describing every problem
 */
export function parseStatisticsArtifact(bytes: Uint8Array): FeatureStatistics {
  let document: FeatureStatisticsDocument;
  try {
    document = JSON.parse(Buffer.from(bytes).toString('utf8')) as FeatureStatisticsDocument;
  } catch (error) {
    throw new Error(`${ARTIFACT_NAMES.featureStatistics} is not JSON: ${(error as Error).message}`);
  }
  const problems: string[] = [];
  const isNumbers = (value: unknown, multipleOf = 1): boolean =>
    Array.isArray(value) && value.length % multipleOf === 0 && value.every((item) => typeof item === 'number' && Number.isFinite(item));
  if (typeof document !== 'object' || document === null) problems.push('it is not an object');
  else {
    if (document.formatVersion !== 1) problems.push(`formatVersion is ${JSON.stringify(document.formatVersion)}, expected 1`);
    if (!isNumbers(document.prior) || document.prior.length !== CLASS_COUNT) problems.push(`prior must be ${CLASS_COUNT} numbers`);
    if (typeof document.smoothing !== 'number' || !(document.smoothing >= 0)) problems.push('smoothing must be a number ≥ 0');
    for (const level of STATISTICS_LEVELS) {
      if (!isNumbers(document.classCounts?.[level], CLASS_COUNT)) problems.push(`classCounts.${level} must be numbers, ${CLASS_COUNT} per code`);
    }
    for (const level of PRICE_LEVELS) {
      if (!isNumbers(document.priceSums?.[level])) problems.push(`priceSums.${level} must be numbers`);
      if (!isNumbers(document.priceCounts?.[level])) problems.push(`priceCounts.${level} must be numbers`);
    }
  }
  if (problems.length > 0) throw new Error(`${ARTIFACT_NAMES.featureStatistics} is malformed: ${problems.join('; ')}`);
  return statisticsFromDocument(document);
}
