/**
 * Histogram kernels shared by all tree trainers. A histogram holds, for every bin of every feature,
 * `channels` float64 sums of the rows of one node whose code falls in that bin:
 * `histogram[(binOffsets[feature] + bin) · channels + channel]`.
 *
 * - gradient boosting: channels (gradient, hessian) [, row count]
 * - classification trees: one channel of weight per class [, row count]
 *
 * The kernels walk a node's row segment once per group of four features (one pass loads the row index
 * and the row's statistics once for four columns), write into per-feature bin ranges that stay in L1,
 * and allocate nothing. The subtraction trick (sibling = parent − built child) lives in
 * `subtractHistogram`; which child to build is the grower's decision.
 */

/** Where the kernels read: the bin codes (column-major) and the rows of one node. */
export interface HistogramSource {
  readonly codes: Uint8Array;
  /** Rows of the matrix (the stride between columns in `codes`). */
  readonly rows: number;
  readonly binOffsets: Int32Array;
  readonly rowIndices: Int32Array;
  readonly start: number;
  readonly end: number;
  /** Features to build, `featureCount` of them. */
  readonly features: Int32Array;
  readonly featureCount: number;
}

/** Adds interleaved (gradient, hessian) pairs of the rows: `pairs[2·row]`, `pairs[2·row + 1]`. */
export function accumulateGradientPairs(source: HistogramSource, pairs: Float32Array, histogram: Float64Array): void {
  const { codes, rows, binOffsets, rowIndices, start, end, features, featureCount } = source;
  let next = 0;
  for (; next + 4 <= featureCount; next += 4) {
    const column0 = features[next] * rows;
    const column1 = features[next + 1] * rows;
    const column2 = features[next + 2] * rows;
    const column3 = features[next + 3] * rows;
    const base0 = binOffsets[features[next]] * 2;
    const base1 = binOffsets[features[next + 1]] * 2;
    const base2 = binOffsets[features[next + 2]] * 2;
    const base3 = binOffsets[features[next + 3]] * 2;
    for (let index = start; index < end; index++) {
      const row = rowIndices[index];
      const gradient = pairs[2 * row];
      const hessian = pairs[2 * row + 1];
      const slot0 = base0 + 2 * codes[column0 + row];
      histogram[slot0] += gradient;
      histogram[slot0 + 1] += hessian;
      const slot1 = base1 + 2 * codes[column1 + row];
      histogram[slot1] += gradient;
      histogram[slot1 + 1] += hessian;
      const slot2 = base2 + 2 * codes[column2 + row];
      histogram[slot2] += gradient;
      histogram[slot2 + 1] += hessian;
      const slot3 = base3 + 2 * codes[column3 + row];
      histogram[slot3] += gradient;
      histogram[slot3 + 1] += hessian;
    }
  }
  for (; next < featureCount; next++) {
    const column = features[next] * rows;
    const base = binOffsets[features[next]] * 2;
    for (let index = start; index < end; index++) {
      const row = rowIndices[index];
      const slot = base + 2 * codes[column + row];
      histogram[slot] += pairs[2 * row];
      histogram[slot + 1] += pairs[2 * row + 1];
    }
  }
}

/** Like `accumulateGradientPairs` with a third channel counting rows (for a minimum of rows per leaf). */
export function accumulateGradientPairsAndCounts(source: HistogramSource, pairs: Float32Array, histogram: Float64Array): void {
  const { codes, rows, binOffsets, rowIndices, start, end, features, featureCount } = source;
  for (let next = 0; next < featureCount; next++) {
    const column = features[next] * rows;
    const base = binOffsets[features[next]] * 3;
    for (let index = start; index < end; index++) {
      const row = rowIndices[index];
      const slot = base + 3 * codes[column + row];
      histogram[slot] += pairs[2 * row];
      histogram[slot + 1] += pairs[2 * row + 1];
      histogram[slot + 2] += 1;
    }
  }
}

/**
 * Adds each row's weight to its class's channel: `histogram[(bin)·channels + labels[row]] += weights[row]`;
 * with `counts`, also `counts[row]` to the last channel (`channels` = classes + 1).
 */
export function accumulateClassWeights(
  source: HistogramSource,
  labels: Int32Array,
  weights: Float32Array,
  counts: Float32Array | undefined,
  channels: number,
  histogram: Float64Array,
): void {
  const { codes, rows, binOffsets, rowIndices, start, end, features, featureCount } = source;
  if (counts !== undefined) {
    const countChannel = channels - 1;
    for (let next = 0; next < featureCount; next++) {
      const column = features[next] * rows;
      const base = binOffsets[features[next]] * channels;
      for (let index = start; index < end; index++) {
        const row = rowIndices[index];
        const slot = base + channels * codes[column + row];
        histogram[slot + labels[row]] += weights[row];
        histogram[slot + countChannel] += counts[row];
      }
    }
    return;
  }
  let next = 0;
  for (; next + 4 <= featureCount; next += 4) {
    const column0 = features[next] * rows;
    const column1 = features[next + 1] * rows;
    const column2 = features[next + 2] * rows;
    const column3 = features[next + 3] * rows;
    const base0 = binOffsets[features[next]] * channels;
    const base1 = binOffsets[features[next + 1]] * channels;
    const base2 = binOffsets[features[next + 2]] * channels;
    const base3 = binOffsets[features[next + 3]] * channels;
    for (let index = start; index < end; index++) {
      const row = rowIndices[index];
      const label = labels[row];
      const weight = weights[row];
      histogram[base0 + channels * codes[column0 + row] + label] += weight;
      histogram[base1 + channels * codes[column1 + row] + label] += weight;
      histogram[base2 + channels * codes[column2 + row] + label] += weight;
      histogram[base3 + channels * codes[column3 + row] + label] += weight;
    }
  }
  for (; next < featureCount; next++) {
    const column = features[next] * rows;
    const base = binOffsets[features[next]] * channels;
    for (let index = start; index < end; index++) {
      const row = rowIndices[index];
      histogram[base + channels * codes[column + row] + labels[row]] += weights[row];
    }
  }
}

/** `target -= subtrahend` over the bins of the given features: turns a parent's histogram into a child's. */
export function subtractHistogram(
  target: Float64Array,
  subtrahend: Float64Array,
  binOffsets: Int32Array,
  features: Int32Array,
  featureCount: number,
  channels: number,
): void {
  for (let next = 0; next < featureCount; next++) {
    const feature = features[next];
    const end = binOffsets[feature + 1] * channels;
    for (let slot = binOffsets[feature] * channels; slot < end; slot++) target[slot] -= subtrahend[slot];
  }
}

/** Zeroes the bins of the given features. */
export function clearHistogram(histogram: Float64Array, binOffsets: Int32Array, features: Int32Array, featureCount: number, channels: number): void {
  for (let next = 0; next < featureCount; next++) {
    const feature = features[next];
    histogram.fill(0, binOffsets[feature] * channels, binOffsets[feature + 1] * channels);
  }
}

/** Histogram buffers reused across nodes and trees (a tree's growth allocates none once warm). */
export class HistogramPool {
  private readonly free: Float64Array[] = [];
  private outstanding = 0;

  constructor(readonly length: number) {}

  /** Buffers handed out and not yet released. */
  get inUse(): number {
    return this.outstanding;
  }

  /** A buffer with unspecified content: the caller clears what it builds. */
  acquire(): Float64Array {
    this.outstanding++;
    return this.free.pop() ?? new Float64Array(this.length);
  }

  release(histogram: Float64Array): void {
    this.outstanding--;
    this.free.push(histogram);
  }
}
