import type { DataSource } from './data-source';
import { InputError } from '../../core/errors';
import type { GateResult } from '../../core/evaluation/gate';
import { computeMetrics, type EvaluationMetrics } from '../../core/evaluation/metrics';
import { versionMetricsFrom, writeReport } from '../../core/evaluation/report';
import type { AlgorithmRun } from '../../core/evaluation/report';
import { FEATURE_COUNT } from '../../core/features/spec';
import { heldOutFeatures } from '../../core/features/training-matrix';
import { readGoldBaskets } from '../../core/lake/gold-reader';
import { scoreWithOnnxRuntime } from '../../core/onnx/score';
import type { ProgressReporter } from '../../core/progress';
import type { ModelRegistry } from '../../core/registry/port';
import { loadRegisteredModel } from '../../core/registry/registered-model';
import { PRICE_SENSITIVITY_CLASSES } from '../../core/schema/lgsr';

export interface EvaluateModelOptions {
  readonly registry: ModelRegistry;
  /** Version id, #n or alias. */
  readonly model: string;
  /** Opens the data to score (see openDataSource), once the model has loaded; closed when done. */
  readonly openSource: () => Promise<DataSource>;
  /** Weeks to score. @default a lake's weeks the model did not train on; all weeks of files */
  readonly weeks?: readonly number[];
  /** Write the HTML report here. @default no report */
  readonly report?: string;
  /** Shown in the report. */
  readonly gate?: GateResult;
  readonly runs?: readonly AlgorithmRun[];
  readonly progress?: ProgressReporter;
}

export interface EvaluationSummary {
  readonly modelVersion: string;
  readonly algorithm: string;
  readonly data: string;
  readonly weeks: readonly number[];
  readonly metrics: EvaluationMetrics;
  readonly report?: string;
}

/** Scores data the model never saw with ONNX Runtime (as served) and computes the metrics. */
export async function evaluateModel(options: EvaluateModelOptions): Promise<EvaluationSummary> {
  const loaded = await loadRegisteredModel(options.registry, options.model);
  const source = await options.openSource();
  try {
    const trained = new Set(loaded.version.lineage.trainingWeeks);
    const weeks = options.weeks ?? (source.scratch ? source.lake.weeks() : source.lake.weeks().filter((week) => !trained.has(week)));
    if (weeks.length === 0) throw new InputError(`no weeks to evaluate in ${source.description}: the model trained on all of them (${[...trained].join(', ')})`);
    const { batch } = await readGoldBaskets(source.lake, weeks);
    const rows: number[] = [];
    let unclassified = 0;
    for (let basket = 0; basket < batch.size; basket++) {
      if (batch.label[basket] < 0) unclassified += 1;
      else rows.push(basket);
    }
    if (rows.length === 0) throw new InputError(`no labelled baskets in weeks ${weeks.join(', ')} of ${source.description}`);
    const values = heldOutFeatures(loaded.statistics, batch, rows);
    const probabilities = await scoreWithOnnxRuntime(loaded.bytes, values, rows.length, FEATURE_COUNT);
    const labels = Int32Array.from(rows, (row) => batch.label[row]);
    const computed = computeMetrics(labels, probabilities, PRICE_SENSITIVITY_CLASSES);
    const metrics: EvaluationMetrics = { ...computed, excluded: { ...computed.excluded, XX: unclassified } };
    if (options.report) {
      const [versions, aliases] = await Promise.all([options.registry.list(), options.registry.aliases()]);
      await writeReport(options.report, {
        model: {
          version: loaded.version.id,
          sequence: loaded.version.sequence,
          algorithm: loaded.version.lineage.algorithm,
          createdAt: loaded.version.createdAt,
          parameters: loaded.version.lineage.parameters,
        },
        data: {
          description: source.description,
          lakeVersion: loaded.version.lineage.lakeVersion,
          trainingWeeks: loaded.version.lineage.trainingWeeks,
          evaluationWeeks: weeks,
        },
        metrics,
        gate: options.gate,
        versionHistory: versionMetricsFrom(versions, aliases),
        featureImportance: loaded.featureImportance,
        runs: options.runs,
      });
    }
    return {
      modelVersion: loaded.version.id,
      algorithm: loaded.version.lineage.algorithm,
      data: source.description,
      weeks,
      metrics,
      report: options.report,
    };
  } finally {
    await source.close();
  }
}
