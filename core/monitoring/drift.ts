/**
 * Drift between the baskets a model was evaluated on and the baskets it is scoring now, by the
 * population stability index (PSI) of every feature and of the predicted classes:
 *
 *   PSI = Σ over bins (current share − reference share) · ln(current share / reference share)
 *
 * Bins come from the reference: a feature with few distinct values (one-hot columns, weekday, hour)
 * gets one bin per value (plus one for values the reference never had); a continuous one gets its
 * reference deciles. Empty bins count as a small share (1e-4) so a new value does not divide by zero.
 * Rules of thumb: < 0.1 stable, 0.1–0.25 moderate shift, > 0.25 a shift worth retraining for.
 */
import { TELEMETRY_EVENTS } from './telemetry';

/** The log event a drift run writes (log-based alerts read its `maxPsi`; the telemetry contract's). */
export const DRIFT_REPORT_EVENT = TELEMETRY_EVENTS.driftReport.name;

/** Above this a feature (or the predicted classes) has drifted enough to act on. */
export const DRIFT_PSI_THRESHOLD = 0.25;

const DISTINCT_LIMIT = 16;
const QUANTILES = 10;
const EMPTY_SHARE = 1e-4;

export interface FeatureMatrixView {
  /** rows × columns, row-major. */
  readonly values: Float32Array;
  readonly rows: number;
  /** Each row's weight (a sampled prediction log: 1 / the rate it was kept at). @default 1 each */
  readonly weights?: ArrayLike<number>;
}

export interface FeatureDrift {
  readonly feature: string;
  readonly psi: number;
  /** Mean of the feature in the reference and now. */
  readonly referenceMean: number;
  readonly currentMean: number;
}

export interface DriftResult {
  readonly referenceRows: number;
  readonly currentRows: number;
  /** Every feature, largest PSI first. */
  readonly features: readonly FeatureDrift[];
  readonly maxPsi: number;
  readonly maxPsiFeature: string | undefined;
  /** Shares of the predicted classes, and their PSI. */
  readonly classes: {
    readonly labels: readonly string[];
    readonly reference: readonly number[];
    readonly current: readonly number[];
    readonly psi: number;
  };
  /** The PSI above which a feature counts as drifted. */
  readonly threshold: number;
  /** Features with PSI above the threshold (or the predicted classes, as `predicted class`). */
  readonly drifted: readonly string[];
}

/** Bins of one feature, learned from the reference. */
interface Bins {
  /** Either the distinct values (categorical) or the upper edges of the deciles (continuous). */
  readonly points: Float64Array;
  readonly categorical: boolean;
}

function learnBins(values: Float32Array, rows: number, columns: number, column: number): Bins {
  const sorted = new Float64Array(rows);
  for (let row = 0; row < rows; row++) sorted[row] = values[row * columns + column];
  sorted.sort();
  const distinct: number[] = [];
  for (let index = 0; index < rows && distinct.length <= DISTINCT_LIMIT; index++) {
    if (index === 0 || sorted[index] !== sorted[index - 1]) distinct.push(sorted[index]);
  }
  if (distinct.length <= DISTINCT_LIMIT) return { points: Float64Array.from(distinct), categorical: true };
  const edges: number[] = [];
  for (let quantile = 1; quantile < QUANTILES; quantile++) {
    const edge = sorted[Math.min(rows - 1, Math.floor((quantile * rows) / QUANTILES))];
    if (edges.length === 0 || edge > edges[edges.length - 1]) edges.push(edge);
  }
  return { points: Float64Array.from(edges), categorical: false };
}

/** Bin index of a value: categorical → position of the value (or points.length when unseen); continuous → first edge ≥ value. */
function binOf(bins: Bins, value: number): number {
  const points = bins.points;
  if (bins.categorical) {
    for (let index = 0; index < points.length; index++) if (points[index] === value) return index;
    return points.length;
  }
  let low = 0;
  let high = points.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (value <= points[middle]) high = middle;
    else low = middle + 1;
  }
  return low;
}

/** PSI of two histograms over the same bins. */
export function populationStabilityIndex(reference: ArrayLike<number>, current: ArrayLike<number>): number {
  let referenceTotal = 0;
  let currentTotal = 0;
  for (let index = 0; index < reference.length; index++) {
    referenceTotal += reference[index];
    currentTotal += current[index];
  }
  if (referenceTotal === 0 || currentTotal === 0) return 0;
  let psi = 0;
  for (let index = 0; index < reference.length; index++) {
    const expected = Math.max(reference[index] / referenceTotal, EMPTY_SHARE);
    const actual = Math.max(current[index] / currentTotal, EMPTY_SHARE);
    psi += (actual - expected) * Math.log(actual / expected);
  }
  return psi;
}

function histogram(bins: Bins, values: Float32Array, rows: number, columns: number, column: number, weights?: ArrayLike<number>): { counts: Float64Array; mean: number } {
  const counts = new Float64Array(bins.points.length + 1);
  let sum = 0;
  let total = 0;
  for (let row = 0; row < rows; row++) {
    const value = values[row * columns + column];
    const weight = weights ? weights[row] : 1;
    counts[binOf(bins, value)] += weight;
    sum += value * weight;
    total += weight;
  }
  return { counts, mean: total > 0 ? sum / total : 0 };
}

/** Feature and predicted-class drift of `current` against `reference` (both in the feature spec's column order). */
export function computeDrift(input: {
  readonly featureNames: readonly string[];
  readonly classLabels: readonly string[];
  readonly reference: FeatureMatrixView & { readonly predicted: ArrayLike<number> };
  readonly current: FeatureMatrixView & { readonly predicted: ArrayLike<number> };
  /** Above this a feature (or the predicted classes) counts as drifted. @default DRIFT_PSI_THRESHOLD */
  readonly threshold?: number;
}): DriftResult {
  const threshold = input.threshold ?? DRIFT_PSI_THRESHOLD;
  const columns = input.featureNames.length;
  const { reference, current } = input;
  if (reference.rows === 0) throw new Error('drift needs reference rows (the model\'s evaluation weeks are empty in this lake)');
  const features: FeatureDrift[] = input.featureNames.map((feature, column) => {
    const bins = learnBins(reference.values, reference.rows, columns, column);
    const expected = histogram(bins, reference.values, reference.rows, columns, column, reference.weights);
    const actual = histogram(bins, current.values, current.rows, columns, column, current.weights);
    return { feature, psi: populationStabilityIndex(expected.counts, actual.counts), referenceMean: expected.mean, currentMean: actual.mean };
  });
  features.sort((a, b) => b.psi - a.psi);
  const classCounts = (view: { readonly predicted: ArrayLike<number>; readonly weights?: ArrayLike<number> }): number[] => {
    const counts = input.classLabels.map(() => 0);
    for (let index = 0; index < view.predicted.length; index++) counts[view.predicted[index]] += view.weights ? view.weights[index] : 1;
    return counts;
  };
  const referenceClasses = classCounts(reference);
  const currentClasses = classCounts(current);
  const share = (counts: number[]): number[] => {
    const total = counts.reduce((sum, count) => sum + count, 0);
    return counts.map((count) => (total > 0 ? count / total : 0));
  };
  const classPsi = populationStabilityIndex(referenceClasses, currentClasses);
  const drifted = features.filter((item) => item.psi > threshold).map((item) => item.feature);
  if (classPsi > threshold) drifted.push('predicted class');
  return {
    referenceRows: reference.rows,
    currentRows: current.rows,
    features,
    maxPsi: features.length > 0 ? features[0].psi : 0,
    maxPsiFeature: features[0]?.feature,
    classes: { labels: input.classLabels, reference: share(referenceClasses), current: share(currentClasses), psi: classPsi },
    threshold,
    drifted,
  };
}
