/**
 * Live accuracy: how right the served model was on the baskets whose labels arrived after their
 * predictions (joined by BASKET_ID), overall and per day of prediction (UTC). Records are weighed as
 * the log says (1 / the sampling rate they were kept at), so a day the writer had to sample counts as
 * much as it served. Unclassified (XX) baskets are not scored, as in evaluation.
 */

export interface LiveAccuracyDay {
  /** `YYYY-MM-DD` (UTC) of the predictions. */
  readonly day: string;
  readonly accuracy: number;
  readonly macroF1: number;
  /** Labelled baskets that day (weighted). */
  readonly baskets: number;
}

export interface LiveAccuracy {
  readonly accuracy: number;
  readonly macroF1: number;
  /** Labelled baskets (weighted). */
  readonly baskets: number;
  /** Labelled records read (unweighted). */
  readonly records: number;
  readonly days: readonly LiveAccuracyDay[];
}

interface Tally {
  readonly confusion: Float64Array;
  total: number;
  correct: number;
}

function newTally(classCount: number): Tally {
  return { confusion: new Float64Array(classCount * classCount), total: 0, correct: 0 };
}

/** Macro-F1 over every class, from a weighted confusion matrix (true × predicted). */
function macroF1(confusion: Float64Array, classCount: number): number {
  let sum = 0;
  for (let k = 0; k < classCount; k++) {
    let truePositive = 0;
    let actual = 0;
    let predicted = 0;
    for (let other = 0; other < classCount; other++) {
      actual += confusion[k * classCount + other];
      predicted += confusion[other * classCount + k];
    }
    truePositive = confusion[k * classCount + k];
    const precision = predicted > 0 ? truePositive / predicted : 0;
    const recall = actual > 0 ? truePositive / actual : 0;
    sum += precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  }
  return sum / classCount;
}

/**
 * Accuracy and macro-F1 of `predicted` against `actual` (class index; negative = unclassified, not
 * scored), weighted, overall and per UTC day of `times`. Undefined when nothing is labelled.
 */
export function computeLiveAccuracy(input: {
  readonly classCount: number;
  readonly predicted: ArrayLike<number>;
  readonly actual: ArrayLike<number>;
  readonly weights: ArrayLike<number>;
  /** Epoch ms of each prediction. */
  readonly times: ArrayLike<number>;
}): LiveAccuracy | undefined {
  const { classCount } = input;
  const overall = newTally(classCount);
  const byDay = new Map<string, Tally>();
  let records = 0;
  for (let row = 0; row < input.predicted.length; row++) {
    const actual = input.actual[row];
    if (!(actual >= 0 && actual < classCount)) continue;
    const predicted = input.predicted[row];
    const weight = input.weights[row];
    const day = new Date(input.times[row]).toISOString().slice(0, 10);
    let tally = byDay.get(day);
    if (!tally) byDay.set(day, (tally = newTally(classCount)));
    for (const target of [overall, tally]) {
      target.confusion[actual * classCount + predicted] += weight;
      target.total += weight;
      if (actual === predicted) target.correct += weight;
    }
    records += 1;
  }
  if (records === 0) return undefined;
  const days = [...byDay.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([day, tally]) => ({ day, accuracy: tally.correct / tally.total, macroF1: macroF1(tally.confusion, classCount), baskets: tally.total }));
  return { accuracy: overall.correct / overall.total, macroF1: macroF1(overall.confusion, classCount), baskets: overall.total, records, days };
}
