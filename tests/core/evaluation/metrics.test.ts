import { describe, expect, it } from 'vitest';
import { RetailMlopsError } from '../../../core/errors';
import { computeLift, computeMetrics, encodeLabels, EvaluationInputError, LOG_LOSS_EPSILON, UNCLASSIFIED_LABEL } from '../../../core/evaluation/metrics';
import { PRICE_SENSITIVITY_CLASSES } from '../../../core/schema/lgsr';

const classes = PRICE_SENSITIVITY_CLASSES;

/** Nine scored rows and two XX rows; the confusion matrix is [[2,1,0],[1,2,1],[0,1,1]]. */
function handExample(): { labels: Int32Array; probabilities: Float32Array; trueProbabilities: number[] } {
  const rows: [number, [number, number, number]][] = [
    [0, [0.7, 0.2, 0.1]], // LA → LA
    [0, [0.2, 0.6, 0.2]], // LA → MM
    [0, [0.5, 0.25, 0.25]], // LA → LA
    [1, [0.1, 0.8, 0.1]], // MM → MM
    [1, [0.3, 0.4, 0.3]], // MM → MM
    [1, [0.1, 0.3, 0.6]], // MM → UM
    [1, [0.5, 0.4, 0.1]], // MM → LA
    [2, [0.1, 0.1, 0.8]], // UM → UM
    [2, [0.2, 0.5, 0.3]], // UM → MM
    [UNCLASSIFIED_LABEL, [0.9, 0.05, 0.05]],
    [UNCLASSIFIED_LABEL, [0.05, 0.05, 0.9]],
  ];
  return {
    labels: Int32Array.from(rows.map(([label]) => label)),
    probabilities: Float32Array.from(rows.flatMap(([, probabilities]) => probabilities)),
    trueProbabilities: rows.filter(([label]) => label >= 0).map(([label, probabilities]) => Math.fround(probabilities[label])),
  };
}

/** A straightforward reference implementation to compare against on random data. */
function referenceMetrics(labels: Int32Array, probabilities: Float32Array, classCount: number) {
  const confusion = Array.from({ length: classCount }, () => new Array<number>(classCount).fill(0));
  let logLoss = 0;
  let rows = 0;
  labels.forEach((label, row) => {
    if (label < 0) return;
    const scores = Array.from(probabilities.subarray(row * classCount, (row + 1) * classCount));
    const predicted = scores.indexOf(Math.max(...scores));
    confusion[label][predicted] += 1;
    const total = scores.reduce((sum, value) => sum + value, 0);
    logLoss += -Math.log(Math.min(Math.max(scores[label] / total, LOG_LOSS_EPSILON), 1 - LOG_LOSS_EPSILON));
    rows++;
  });
  const f1s = confusion.map((_, k) => {
    const truePositives = confusion[k][k];
    const predicted = confusion.reduce((sum, line) => sum + line[k], 0);
    const actual = confusion[k].reduce((sum, value) => sum + value, 0);
    const precision = predicted ? truePositives / predicted : 0;
    const recall = actual ? truePositives / actual : 0;
    return precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
  });
  return {
    confusion,
    accuracy: confusion.reduce((sum, line, k) => sum + line[k], 0) / rows,
    macroF1: f1s.reduce((sum, value) => sum + value, 0) / classCount,
    logLoss: logLoss / rows,
  };
}

/** A small deterministic pseudo-random generator (Park–Miller). */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 48_271) % 2_147_483_647;
    return state / 2_147_483_647;
  };
}

function randomData(rows: number, seed: number): { labels: Int32Array; probabilities: Float32Array } {
  const next = random(seed);
  const labels = new Int32Array(rows);
  const probabilities = new Float32Array(rows * 3);
  for (let row = 0; row < rows; row++) {
    labels[row] = next() < 0.02 ? UNCLASSIFIED_LABEL : Math.floor(next() * 3);
    const scores = [next(), next(), next()];
    if (labels[row] >= 0) scores[labels[row]] += 0.6; // a model that is right most of the time
    const total = scores.reduce((sum, value) => sum + value, 0);
    scores.forEach((score, k) => (probabilities[row * 3 + k] = score / total));
  }
  return { labels, probabilities };
}

describe('computeMetrics', () => {
  it('computes accuracy, per-class metrics, macro-F1, the confusion matrix and log-loss (hand-checked example)', () => {
    const { labels, probabilities, trueProbabilities } = handExample();
    const metrics = computeMetrics(labels, probabilities, classes);
    expect(metrics.rows).toBe(9);
    expect(metrics.excluded).toEqual({ XX: 2 });
    expect(metrics.confusionMatrix).toEqual({ labels: ['LA', 'MM', 'UM'], matrix: [[2, 1, 0], [1, 2, 1], [0, 1, 1]] });
    expect(metrics.accuracy).toBeCloseTo(5 / 9, 12);
    expect(metrics.perClass.LA).toEqual({ precision: 2 / 3, recall: 2 / 3, f1: expect.closeTo(2 / 3, 12), support: 3 });
    expect(metrics.perClass.MM).toEqual({ precision: 0.5, recall: 0.5, f1: 0.5, support: 4 });
    expect(metrics.perClass.UM).toEqual({ precision: 0.5, recall: 0.5, f1: 0.5, support: 2 });
    expect(metrics.macroF1).toBeCloseTo((2 / 3 + 0.5 + 0.5) / 3, 12);
    const rowSums = [0, 1, 2, 3, 4, 5, 6, 7, 8].map((row) => probabilities[row * 3] + probabilities[row * 3 + 1] + probabilities[row * 3 + 2]);
    const expectedLogLoss = trueProbabilities.reduce((sum, probability, row) => sum - Math.log(probability / rowSums[row]), 0) / 9;
    expect(metrics.logLoss).toBeCloseTo(expectedLogLoss, 10);
    expect(metrics.lift).toBeUndefined();
  });

  it('is plain JSON in the documented shape', () => {
    const { labels, probabilities } = handExample();
    const metrics = computeMetrics(labels, probabilities, classes, { baseline: { name: 'context-only', accuracy: 0.5, macroF1: 0.4 } });
    const roundTripped = JSON.parse(JSON.stringify(metrics)) as Record<string, unknown>;
    expect(roundTripped).toEqual(metrics);
    expect(Object.keys(roundTripped).sort()).toEqual(['accuracy', 'confusionMatrix', 'excluded', 'lift', 'logLoss', 'macroF1', 'perClass', 'rows']);
    expect(Object.keys(metrics.perClass)).toEqual(['LA', 'MM', 'UM']);
  });

  it('computes the lift over a baseline', () => {
    const { labels, probabilities } = handExample();
    const metrics = computeMetrics(labels, probabilities, classes, { baseline: { name: 'context-only', accuracy: 0.5, macroF1: 0.4 } });
    expect(metrics.lift?.baseline).toEqual({ name: 'context-only', accuracy: 0.5, macroF1: 0.4 });
    expect(metrics.lift?.accuracyDelta).toBeCloseTo(5 / 9 - 0.5, 12);
    expect(metrics.lift?.macroF1Delta).toBeCloseTo(5 / 9 - 0.4, 12);
    expect(computeLift({ accuracy: 0.6, macroF1: 0.5 }, { name: 'majority', accuracy: 0.7, macroF1: 0.3 })).toEqual({
      baseline: { name: 'majority', accuracy: 0.7, macroF1: 0.3 },
      accuracyDelta: expect.closeTo(-0.1, 12),
      macroF1Delta: expect.closeTo(0.2, 12),
    });
  });

  it('agrees with a reference implementation on 300k random rows', () => {
    const { labels, probabilities } = randomData(300_000, 7);
    const metrics = computeMetrics(labels, probabilities, classes);
    const reference = referenceMetrics(labels, probabilities, 3);
    expect(metrics.confusionMatrix.matrix).toEqual(reference.confusion);
    expect(metrics.accuracy).toBeCloseTo(reference.accuracy, 12);
    expect(metrics.macroF1).toBeCloseTo(reference.macroF1, 12);
    expect(metrics.logLoss).toBeCloseTo(reference.logLoss, 9);
    expect(metrics.rows + metrics.excluded.XX).toBe(300_000);
    expect(metrics.excluded.XX).toBeGreaterThan(0);
  });

  it('breaks ties towards the first class, clips log-loss and scores a class that is never predicted as 0', () => {
    const labels = Int32Array.from([0, 1, 2]);
    const probabilities = Float32Array.from([0.5, 0.5, 0, 0.5, 0.5, 0, 1, 0, 0]);
    const metrics = computeMetrics(labels, probabilities, classes);
    expect(metrics.confusionMatrix.matrix).toEqual([[1, 0, 0], [1, 0, 0], [1, 0, 0]]);
    expect(metrics.perClass.UM).toEqual({ precision: 0, recall: 0, f1: 0, support: 1 });
    expect(metrics.perClass.MM.precision).toBe(0);
    expect(Number.isFinite(metrics.logLoss)).toBe(true);
    expect(metrics.logLoss).toBeCloseTo((-Math.log(0.5) - Math.log(0.5) - Math.log(LOG_LOSS_EPSILON)) / 3, 9);
  });

  it('normalises rows that do not sum to 1 for log-loss, not for the prediction', () => {
    const metrics = computeMetrics(Int32Array.from([1]), Float32Array.from([1, 2, 1]), classes);
    expect(metrics.accuracy).toBe(1);
    expect(metrics.logLoss).toBeCloseTo(-Math.log(0.5), 12);
  });

  it('rejects inconsistent input with a stable code', () => {
    const attempts: [() => unknown, RegExp][] = [
      [() => computeMetrics(Int32Array.from([0, 1]), new Float32Array(5), classes), /expected rows × classes/],
      [() => computeMetrics(Int32Array.from([3]), Float32Array.from([1, 0, 0]), classes), /label 3 at row 0/],
      [() => computeMetrics(Int32Array.from([-2]), Float32Array.from([1, 0, 0]), classes), /label -2/],
      [() => computeMetrics(Int32Array.from([0]), Float32Array.from([Number.NaN, 0, 0]), classes), /not a finite non-negative/],
      [() => computeMetrics(Int32Array.from([0]), Float32Array.from([-0.1, 0, 0]), classes), /not a finite non-negative/],
      [() => computeMetrics(Int32Array.from([UNCLASSIFIED_LABEL]), Float32Array.from([1, 0, 0]), classes), /no row to score/],
      [() => computeMetrics(new Int32Array(0), new Float32Array(0), classes), /no row to score/],
      [() => computeMetrics(Int32Array.from([0]), Float32Array.from([1]), ['LA']), /at least two classes/],
    ];
    for (const [attempt, message] of attempts) {
      let caught: unknown;
      try {
        attempt();
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(EvaluationInputError);
      expect(RetailMlopsError.isInstance(caught) && caught.code).toBe('EVALUATION_INPUT');
      expect((caught as Error).message).toMatch(message);
    }
  });
});

describe('encodeLabels', () => {
  it('maps class names to indices and XX to the unclassified label', () => {
    expect(Array.from(encodeLabels(['MM', 'XX', 'LA', 'UM'], classes))).toEqual([1, UNCLASSIFIED_LABEL, 0, 2]);
  });

  it('lists every unknown label', () => {
    expect(() => encodeLabels(['MM', 'ZZ', 'la', 'ZZ'], classes)).toThrow(/unknown label\(s\) "ZZ", "la"/);
  });
});
