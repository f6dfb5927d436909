/**
 * Small synthetic matrices with known structure for the trainer tests, and the metrics they assert on.
 */
import type { FeatureMatrix } from '../../../core/training/model';
import { SeededRandom } from '../../../core/training/trees/random';

/** Rows of uniform [0, 1) features labelled by `label(row features, random)`. */
export function labelledMatrix(
  rows: number,
  columns: number,
  seed: number,
  label: (features: Float32Array, random: SeededRandom) => number,
  draw: (random: SeededRandom, column: number) => number = (random) => random.nextFloat(),
): FeatureMatrix {
  const random = new SeededRandom(seed);
  const values = new Float32Array(rows * columns);
  const labels = new Int32Array(rows);
  for (let row = 0; row < rows; row++) {
    for (let column = 0; column < columns; column++) values[row * columns + column] = draw(random, column);
    labels[row] = label(values.subarray(row * columns, (row + 1) * columns), random);
  }
  return { rows, columns, values, labels };
}

/** A standard normal draw. */
export function normal(random: SeededRandom): number {
  return Math.sqrt(-2 * Math.log(1 - random.nextFloat())) * Math.cos(2 * Math.PI * random.nextFloat());
}

/** Three Gaussian blobs in the first two of `columns` features (the rest noise), with a share of random labels. */
export function noisyBlobs(rows: number, columns: number, seed: number, labelNoise: number): FeatureMatrix {
  const centres = [
    [-1, 0],
    [1, 0.5],
    [0, -1.2],
  ];
  const random = new SeededRandom(seed);
  const values = new Float32Array(rows * columns);
  const labels = new Int32Array(rows);
  for (let row = 0; row < rows; row++) {
    const label = random.nextInt(3);
    for (let column = 0; column < columns; column++) {
      values[row * columns + column] = (column < 2 ? centres[label][column] : 0) + 0.8 * normal(random);
    }
    labels[row] = random.nextFloat() < labelNoise ? random.nextInt(3) : label;
  }
  return { rows, columns, values, labels };
}

export function accuracy(truth: Int32Array, predicted: Int32Array): number {
  let correct = 0;
  for (let row = 0; row < truth.length; row++) if (truth[row] === predicted[row]) correct++;
  return correct / truth.length;
}

/** Accuracy of always predicting the most frequent class. */
export function majorityAccuracy(labels: Int32Array, classCount: number): number {
  const counts = new Array<number>(classCount).fill(0);
  for (const label of labels) counts[label]++;
  return Math.max(...counts) / labels.length;
}

/** Unweighted mean over classes of F1 (a class never predicted nor present counts 0). */
export function macroF1(truth: Int32Array, predicted: Int32Array, classCount: number): number {
  let sum = 0;
  for (let label = 0; label < classCount; label++) {
    let truePositive = 0;
    let falsePositive = 0;
    let falseNegative = 0;
    for (let row = 0; row < truth.length; row++) {
      if (predicted[row] === label && truth[row] === label) truePositive++;
      else if (predicted[row] === label) falsePositive++;
      else if (truth[row] === label) falseNegative++;
    }
    sum += truePositive === 0 ? 0 : (2 * truePositive) / (2 * truePositive + falsePositive + falseNegative);
  }
  return sum / classCount;
}

/** The leaf a row of raw features reaches (x <= threshold → left). */
export function leafOf(
  tree: { feature: Int32Array; threshold: Float32Array; left: Int32Array; right: Int32Array },
  features: ArrayLike<number>,
): number {
  let node = 0;
  while (tree.feature[node] >= 0) node = features[tree.feature[node]] <= tree.threshold[node] ? tree.left[node] : tree.right[node];
  return node;
}

/** Depth of the deepest leaf (the root is depth 0). */
export function treeDepth(tree: { feature: Int32Array; left: Int32Array; right: Int32Array }, node = 0): number {
  if (tree.feature[node] < 0) return 0;
  return 1 + Math.max(treeDepth(tree, tree.left[node]), treeDepth(tree, tree.right[node]));
}

export function leafCount(tree: { feature: Int32Array }): number {
  let leaves = 0;
  for (const feature of tree.feature) if (feature < 0) leaves++;
  return leaves;
}

export const CLASSES = ['LA', 'MM', 'UM'] as const;
