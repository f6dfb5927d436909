import type { EvaluationMetrics } from '../../core/evaluation/metrics';
import { FEATURE_SPEC } from '../../core/features/spec';
import type { Lake } from '../../core/lake/lake';
import type { ProgressReporter } from '../../core/progress';
import type { ModelRegistry } from '../../core/registry/port';
import { ARTIFACT_NAMES } from '../../core/registry/types';
import { defaultTimeSplit, TRAINING_SPECIFICATION_VERSION, type TimeSplit, type TrainedModel, type TrainingBackend, type TrainingJob } from '../../core/training/port';
import { trainJobs } from '../../core/training/schedule';

export interface TrainModelsOptions {
  /** The lake's current version, readable here (its weeks decide the split). */
  readonly lake: Lake;
  /** Where the lake lives (what jobs read and lineage records): a directory, `s3://…`, a Blob URL. @default lake.root */
  readonly lakeLocation?: string;
  readonly registry: ModelRegistry;
  readonly backend: TrainingBackend;
  readonly algorithms: readonly string[];
  /** @default 42 */
  readonly seed?: number;
  /** Held-out weeks at the end. @default 1 */
  readonly testWeeks?: number;
  /** Early-stopping weeks before them. @default 1 */
  readonly validationWeeks?: number;
  readonly createdBy: string;
  readonly progress?: ProgressReporter;
  /** Threads for all the training (jobs run side by side, each with a share). @default every core */
  readonly threads?: number;
  /** Point this alias at the run's champion (e.g. `challenger`, for the next pipeline stages). @default no alias */
  readonly alias?: string;
}

export interface TrainingRun {
  readonly algorithm: string;
  readonly modelVersion: string;
  readonly sequence: number;
  readonly trainSeconds: number;
  readonly metrics: EvaluationMetrics;
  readonly validationMetrics?: EvaluationMetrics;
  readonly parameters: TrainedModel['parameters'];
  readonly featureImportance: TrainedModel['featureImportance'];
}

export interface TrainModelsSummary {
  readonly lakeVersion: number;
  readonly split: TimeSplit;
  readonly runs: readonly TrainingRun[];
  /** The run with the best held-out macro-F1. */
  readonly champion: { readonly algorithm: string; readonly modelVersion: string };
}

/**
 * Trains each algorithm on the lake's current version (side by side as threads allow: `trainJobs`)
 * and registers every model, in the algorithms' order; names the champion (best held-out macro-F1)
 * and points `alias` at it.
 */
export async function trainModels(options: TrainModelsOptions): Promise<TrainModelsSummary> {
  const split = defaultTimeSplit(options.lake.weeks(), { testWeeks: options.testWeeks, validationWeeks: options.validationWeeks });
  const jobs: TrainingJob[] = options.algorithms.map((algorithm) => ({
    specificationVersion: TRAINING_SPECIFICATION_VERSION,
    name: `retail-mlops-${algorithm}-${Date.now()}`,
    dataset: { uri: options.lakeLocation ?? options.lake.root, version: options.lake.manifest.version },
    split,
    featureSpec: { version: FEATURE_SPEC.version, hash: FEATURE_SPEC.hash },
    algorithm,
    hyperparameters: {},
    seed: options.seed ?? 42,
  }));
  const models = await trainJobs(options.backend, jobs, { threads: options.threads, progress: options.progress });
  const runs: TrainingRun[] = [];
  for (const [index, trained] of models.entries()) {
    const algorithm = jobs[index].algorithm;
    const { version } = await options.registry.register({
      model: trained.onnx,
      metrics: trained.metrics,
      lineage: trained.lineage,
      artifacts: [
        { name: ARTIFACT_NAMES.featureStatistics, content: JSON.stringify(trained.featureStatistics), mediaType: 'application/json' },
        { name: ARTIFACT_NAMES.featureImportance, content: JSON.stringify(trained.featureImportance), mediaType: 'application/json' },
      ],
      createdBy: options.createdBy,
    });
    runs.push({
      algorithm,
      modelVersion: version.id,
      sequence: version.sequence,
      trainSeconds: trained.trainSeconds,
      metrics: trained.metrics,
      validationMetrics: trained.validationMetrics,
      parameters: trained.parameters,
      featureImportance: trained.featureImportance,
    });
  }
  const best = [...runs].sort((a, b) => b.metrics.macroF1 - a.metrics.macroF1)[0];
  const lakeVersion = options.lake.manifest.version;
  if (options.alias) {
    await options.registry.setAlias(options.alias, best.modelVersion, {
      actor: options.createdBy,
      reason: `best held-out macro-F1 (${best.metrics.macroF1.toFixed(4)}) of ${runs.map((run) => run.algorithm).join(', ')} on lake version ${lakeVersion}`,
    });
  }
  return { lakeVersion, split, runs, champion: { algorithm: best.algorithm, modelVersion: best.modelVersion } };
}
