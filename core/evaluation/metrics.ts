/**
 * Classification metrics for held-out evaluation: accuracy, macro-F1, per-class precision / recall /
 * F1 / support, the confusion matrix and log-loss, plus the lift over a baseline model. Pure functions
 * over typed arrays (one pass over the rows; 300k rows take milliseconds).
 *
 * Unclassified baskets (label `XX`, encoded as {@link UNCLASSIFIED_LABEL}) are not scored: they are
 * excluded from every metric and counted in `excluded.XX`.
 */
import { RetailMlopsError } from '../errors';
import { UNCLASSIFIED } from '../schema/lgsr';

/** The class index of an unclassified (`XX`) row in a label array. */
export const UNCLASSIFIED_LABEL = -1;

/**
 * Probabilities at or below this are clipped before taking the logarithm (as scikit-learn does), so
 * one confident mistake costs at most −ln(1e-15) ≈ 34.5 instead of infinity.
 */
export const LOG_LOSS_EPSILON = 1e-15;

/** Precision, recall and F1 of one class; `support` is its number of true rows. */
export interface ClassMetrics {
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  readonly support: number;
}

/** Counts of (true, predicted) pairs: `matrix[t][p]`, rows = true class, columns = predicted class, both in `labels` order. */
export interface ConfusionMatrix {
  readonly labels: readonly string[];
  readonly matrix: readonly (readonly number[])[];
}

/** The accuracy and macro-F1 of a reference model (e.g. one that sees the basket context only). */
export interface MetricsBaseline {
  /** What the baseline is, e.g. `context-only` or `majority-class`. */
  readonly name: string;
  readonly accuracy: number;
  readonly macroF1: number;
}

/** How much better than a baseline a model is: positive deltas mean better. */
export interface Lift {
  readonly baseline: MetricsBaseline;
  /** accuracy − baseline accuracy. */
  readonly accuracyDelta: number;
  /** macro-F1 − baseline macro-F1. */
  readonly macroF1Delta: number;
}

/**
 * The metrics document (the JSON that `train --json` and `evaluate --json` print and the registry
 * stores with each model version). Everything is plain JSON: numbers, strings, arrays, objects.
 */
export interface EvaluationMetrics {
  /** Fraction of scored rows whose most probable class is the true one. */
  readonly accuracy: number;
  /** Unweighted mean of the per-class F1 scores over every class of the model. */
  readonly macroF1: number;
  /** Mean negative log-likelihood of the true class (natural log, probabilities clipped at {@link LOG_LOSS_EPSILON}). */
  readonly logLoss: number;
  /** Keyed by class name, in the model's class order. */
  readonly perClass: Readonly<Record<string, ClassMetrics>>;
  readonly confusionMatrix: ConfusionMatrix;
  /** Number of scored rows (unclassified rows excluded). */
  readonly rows: number;
  /** Rows that were not scored, by reason: `XX` = unclassified baskets. */
  readonly excluded: { readonly XX: number };
  /** Present when a baseline was given. */
  readonly lift?: Lift;
}

/** The inputs of {@link computeMetrics} are inconsistent (lengths, label range, probabilities). */
export class EvaluationInputError extends RetailMlopsError {
  constructor(message: string) {
    super('EVALUATION_INPUT', message);
  }
}

export interface ComputeMetricsOptions {
  /**
   * A baseline to compute the lift over (accuracy and macro-F1 deltas).
   * @default - no lift in the result
   */
  readonly baseline?: MetricsBaseline;
}

/**
 * Computes the metrics of predicted class probabilities against true labels.
 *
 * @param trueLabels class index per row (into `classes`), or {@link UNCLASSIFIED_LABEL} for an `XX` row
 * @param probabilities rows × classes, row-major, in `classes` order; the predicted class is the most
 *   probable one (the first on ties). Rows need not sum to exactly 1: log-loss normalises each row.
 * @param classes the model's class names, e.g. `PRICE_SENSITIVITY_CLASSES`
 * @throws EvaluationInputError when the lengths disagree, a label is out of range, a probability is
 *   negative or not finite, or no row is left to score
 */
export function computeMetrics(
  trueLabels: Int32Array,
  probabilities: Float32Array | Float64Array,
  classes: readonly string[],
  options: ComputeMetricsOptions = {},
): EvaluationMetrics {
  const classCount = classes.length;
  if (classCount < 2) throw new EvaluationInputError(`need at least two classes, got ${classCount}`);
  if (new Set(classes).size !== classCount) throw new EvaluationInputError(`class names repeat: ${classes.join(', ')}`);
  if (probabilities.length !== trueLabels.length * classCount) {
    throw new EvaluationInputError(
      `probabilities has ${probabilities.length} values; expected rows × classes = ${trueLabels.length} × ${classCount} = ${trueLabels.length * classCount}`,
    );
  }

  const confusion = new Float64Array(classCount * classCount);
  let excluded = 0;
  let logLossSum = 0;
  for (let row = 0; row < trueLabels.length; row++) {
    const label = trueLabels[row];
    if (label === UNCLASSIFIED_LABEL) {
      excluded++;
      continue;
    }
    if (!(label >= 0 && label < classCount)) {
      throw new EvaluationInputError(`label ${label} at row ${row} is neither a class index (0–${classCount - 1}) nor ${UNCLASSIFIED_LABEL} (${UNCLASSIFIED})`);
    }
    const offset = row * classCount;
    let predicted = 0;
    let best = -Infinity;
    let sum = 0;
    for (let k = 0; k < classCount; k++) {
      const probability = probabilities[offset + k];
      if (!(probability >= 0) || probability === Infinity) {
        throw new EvaluationInputError(`probability ${probability} at row ${row}, class ${classes[k]} is not a finite non-negative number`);
      }
      sum += probability;
      if (probability > best) {
        best = probability;
        predicted = k;
      }
    }
    confusion[label * classCount + predicted]++;
    const trueProbability = sum > 0 ? probabilities[offset + label] / sum : 0;
    logLossSum -= Math.log(Math.min(Math.max(trueProbability, LOG_LOSS_EPSILON), 1 - LOG_LOSS_EPSILON));
  }

  const rows = trueLabels.length - excluded;
  if (rows === 0) throw new EvaluationInputError(`no row to score: all ${trueLabels.length} rows are unclassified (${UNCLASSIFIED}) or there are none`);

  let correct = 0;
  let f1Sum = 0;
  const perClass: Record<string, ClassMetrics> = {};
  for (let k = 0; k < classCount; k++) {
    let support = 0;
    let predictedCount = 0;
    for (let other = 0; other < classCount; other++) {
      support += confusion[k * classCount + other];
      predictedCount += confusion[other * classCount + k];
    }
    const truePositives = confusion[k * classCount + k];
    correct += truePositives;
    // An undefined ratio (no predictions, or no true rows) counts as 0, as in scikit-learn.
    const precision = predictedCount > 0 ? truePositives / predictedCount : 0;
    const recall = support > 0 ? truePositives / support : 0;
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    f1Sum += f1;
    perClass[classes[k]] = { precision, recall, f1, support };
  }

  const matrix: number[][] = [];
  for (let t = 0; t < classCount; t++) matrix.push(Array.from(confusion.subarray(t * classCount, (t + 1) * classCount)));

  const metrics: EvaluationMetrics = {
    accuracy: correct / rows,
    macroF1: f1Sum / classCount,
    logLoss: logLossSum / rows,
    perClass,
    confusionMatrix: { labels: [...classes], matrix },
    rows,
    excluded: { XX: excluded },
  };
  return options.baseline ? { ...metrics, lift: computeLift(metrics, options.baseline) } : metrics;
}

/** The lift of a model's metrics over a baseline's: accuracy and macro-F1 deltas. */
export function computeLift(metrics: Pick<EvaluationMetrics, 'accuracy' | 'macroF1'>, baseline: MetricsBaseline): Lift {
  return {
    baseline: { name: baseline.name, accuracy: baseline.accuracy, macroF1: baseline.macroF1 },
    accuracyDelta: metrics.accuracy - baseline.accuracy,
    macroF1Delta: metrics.macroF1 - baseline.macroF1,
  };
}

/**
 * Encodes label names (e.g. BASKET_PRICE_SENSITIVITY values) as class indices for {@link computeMetrics};
 * `XX` becomes {@link UNCLASSIFIED_LABEL}.
 * @throws EvaluationInputError listing the unknown label names
 */
export function encodeLabels(names: ArrayLike<string>, classes: readonly string[]): Int32Array {
  const indexOf = new Map(classes.map((name, index) => [name, index]));
  const labels = new Int32Array(names.length);
  const unknown = new Set<string>();
  for (let row = 0; row < names.length; row++) {
    const name = names[row];
    const index = name === UNCLASSIFIED ? UNCLASSIFIED_LABEL : indexOf.get(name);
    if (index === undefined) unknown.add(name);
    else labels[row] = index;
  }
  if (unknown.size > 0) {
    throw new EvaluationInputError(`unknown label(s) ${[...unknown].slice(0, 10).map((name) => JSON.stringify(name)).join(', ')}; expected one of ${[...classes, UNCLASSIFIED].join(', ')}`);
  }
  return labels;
}
