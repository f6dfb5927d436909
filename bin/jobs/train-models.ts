import type { Lake } from '../../core/data/lake';
import type { EvaluationMetrics } from '../../core/evaluation/metrics';
import { FEATURE_SPEC } from '../../core/features/spec';
import type { ProgressReporter } from '../../core/progress';
import type { ModelRegistry } from '../../core/registry/port';
import { ARTIFACT_NAMES } from '../../core/registry/types';
import { defaultTimeSplit, TRAINING_SPECIFICATION_VERSION, type TimeSplit, type TrainedModel, type TrainingBackend } from '../../core/training/contract';

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

/** Trains each algorithm on the lake's current version and registers every model. */
export async function trainModels(options: TrainModelsOptions): Promise<TrainModelsSummary> {
  const split = defaultTimeSplit(options.lake.weeks(), { testWeeks: options.testWeeks, validationWeeks: options.validationWeeks });
  const runs: TrainingRun[] = [];
  for (const algorithm of options.algorithms) {
    options.progress?.start(`training ${algorithm}`);
    const trained = await options.backend.train(
      {
        specificationVersion: TRAINING_SPECIFICATION_VERSION,
        name: `retail-mlops-${algorithm}-${Date.now()}`,
        dataset: { uri: options.lakeLocation ?? options.lake.root, version: options.lake.manifest.version },
        split,
        featureSpec: { version: FEATURE_SPEC.version, hash: FEATURE_SPEC.hash },
        algorithm,
        hyperparameters: {},
        seed: options.seed ?? 42,
      },
      { progress: options.progress },
    );
    options.progress?.stop();
    const { version } = await options.registry.register({
      model: trained.onnx,
      metrics: trained.metrics,
      lineage: trained.lineage,
      artifacts: [
        { name: ARTIFACT_NAMES.featureStatistics, content: JSON.stringify(trained.featureStatistics), mediaType: 'application/json' },
        { name: 'feature-importance.json', content: JSON.stringify(trained.featureImportance), mediaType: 'application/json' },
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
  return { lakeVersion: options.lake.manifest.version, split, runs, champion: { algorithm: best.algorithm, modelVersion: best.modelVersion } };
}
