import type { ModelIR } from './model';
import type { FeatureImportance } from './port';
import type { BasketBatch } from '../features/basket-batch';
import { FEATURE_COUNT, FEATURE_SPEC } from '../features/spec';

/** Labelled baskets (indexes) of a batch whose week is in `weeks`, and how many XX baskets were left out. */
export function rowsOfWeeks(batch: BasketBatch, weeks: readonly number[]): { readonly rows: Int32Array; readonly unclassified: number } {
  const wanted = new Set(weeks);
  const rows: number[] = [];
  let unclassified = 0;
  for (let basket = 0; basket < batch.size; basket++) {
    if (!wanted.has(batch.week[basket])) continue;
    if (batch.label[basket] < 0) unclassified += 1;
    else rows.push(basket);
  }
  return { rows: Int32Array.from(rows), unclassified };
}

/**
 * Feature importance every backend reports the same way, normalised to sum 1: for trees the splits per
 * feature; for a linear model Σ_classes |coefficient| × the feature's standard deviation on `values`.
 */
export function featureImportance(model: ModelIR, values?: Float32Array, rows = 0): FeatureImportance[] {
  const scores = new Float64Array(FEATURE_COUNT);
  if (model.kind === 'linear') {
    for (let feature = 0; feature < FEATURE_COUNT; feature++) {
      let sum = 0;
      let squares = 0;
      for (let row = 0; row < rows; row++) {
        const value = values![row * FEATURE_COUNT + feature];
        sum += value;
        squares += value * value;
      }
      const deviation = rows > 0 ? Math.sqrt(Math.max(squares / rows - (sum / rows) ** 2, 0)) : 1;
      for (let label = 0; label < model.classes.length; label++) {
        scores[feature] += Math.abs(model.coefficients[label * FEATURE_COUNT + feature]) * deviation;
      }
    }
  } else {
    for (const tree of model.trees) for (const feature of tree.feature) if (feature >= 0) scores[feature] += 1;
  }
  const total = scores.reduce((sum, score) => sum + score, 0) || 1;
  return FEATURE_SPEC.names.map((name, index) => ({ name, importance: scores[index] / total })).sort((a, b) => b.importance - a.importance);
}
