import { computeMetrics, type MetricsBaseline } from './metrics';
import { contextColumns } from '../features/compute';
import { CONTEXT_FEATURE_COUNT } from '../features/spec';
import { trainLogisticRegression } from '../training/logistic-regression';
import { modelProbabilities } from '../training/model-outputs';

/**
 * What the basket says without its products: a logistic regression on the context columns only,
 * fitted on the training rows and scored on the test rows. Backends that train elsewhere (SageMaker,
 * Azure ML) report their lift over it exactly as the in-process backend does.
 */
export function contextOnlyBaseline(
  train: { readonly values: Float32Array; readonly labels: Int32Array },
  test: { readonly values: Float32Array; readonly labels: Int32Array },
  classes: readonly string[],
): MetricsBaseline {
  const trainContext = {
    rows: train.labels.length,
    columns: CONTEXT_FEATURE_COUNT,
    values: contextColumns(train.values, train.labels.length),
    labels: train.labels,
  };
  const { model } = trainLogisticRegression(trainContext, classes, { l2: 1e-3, maxIterations: 200 });
  const probabilities = modelProbabilities(model, contextColumns(test.values, test.labels.length), test.labels.length);
  const metrics = computeMetrics(test.labels, probabilities, classes);
  return { name: 'context-only logistic regression', accuracy: metrics.accuracy, macroF1: metrics.macroF1 };
}
