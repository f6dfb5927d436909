import type { TreeIR } from '../model';

/** Adds one tree's leaf values to every row's float64 scores (training-time bookkeeping: gradient boosting's margins). */
export function addTreeScores(
  tree: TreeIR,
  values: Float32Array,
  rows: number,
  featureCount: number,
  classCount: number,
  scores: Float64Array,
): void {
  const { feature, threshold, left, right, value } = tree;
  for (let row = 0; row < rows; row++) {
    const base = row * featureCount;
    let node = 0;
    while (feature[node] >= 0) node = values[base + feature[node]] <= threshold[node] ? left[node] : right[node];
    const leafOffset = node * classCount;
    const scoreOffset = row * classCount;
    for (let label = 0; label < classCount; label++) scores[scoreOffset + label] += value[leafOffset + label];
  }
}

/** Index of the largest value of each row (the first one on ties). */
export function argmaxRows(scores: Float32Array | Float64Array, rows: number, classCount: number): Int32Array {
  const labels = new Int32Array(rows);
  for (let row = 0; row < rows; row++) {
    const offset = row * classCount;
    let best = 0;
    for (let label = 1; label < classCount; label++) if (scores[offset + label] > scores[offset + best]) best = label;
    labels[row] = best;
  }
  return labels;
}
