/**
 * What a node's rows add up to, and how a split of them is scored. The grower is generic over this:
 * gradient boosting plugs in (gradient, hessian) sums scored by the XGBoost gain, classification
 * trees plug in per-class weights scored by the decrease of Gini impurity.
 */
import { accumulateClassWeights, accumulateGradientPairs, accumulateGradientPairsAndCounts, type HistogramSource } from './histogram';
import type { HistogramKernels } from './histogram-kernels';
import type { TrainingMemory } from './training-memory';

/** How trees grow: `depthwise` expands level by level (XGBoost's default), `lossguide` the best leaf first. */
export const GROW_POLICIES = ['depthwise', 'lossguide'] as const;
export type GrowPolicy = (typeof GROW_POLICIES)[number];

/** Resolved limits of one tree's growth (no limit = Infinity); the trainers derive them from their options. */
export interface GrowthLimits {
  readonly maxDepth: number;
  readonly maxLeaves: number;
  /** Rows (bootstrap draws counted) each child must keep. */
  readonly minSamplesPerLeaf: number;
  /** Hessian (boosting) or weight (classification) each child must keep. */
  readonly minChildWeight: number;
  /** A split must gain more than this, in the criterion's own units. */
  readonly minSplitGain: number;
  readonly growPolicy: GrowPolicy;
}

/** The best split found so far for one node. */
export class SplitSearch {
  gain = 0;
  feature = -1;
  bin = -1;
  /** Totals of the rows the best split sends left. */
  readonly left: Float64Array;

  constructor(channels: number) {
    this.left = new Float64Array(channels);
  }

  reset(minimumGain: number): void {
    this.gain = minimumGain;
    this.feature = -1;
    this.bin = -1;
  }
}

export interface NodeStatistics {
  /** float64 sums per bin (and per node). */
  readonly channels: number;
  /** Adds the segment's rows to the histogram (which holds zeros, or other rows of the same node). */
  build(source: HistogramSource, histogram: Float64Array): void;
  /** Writes the totals of a row segment at `totals[offset…]`. */
  sumRows(rowIndices: Int32Array, start: number, end: number, totals: Float64Array, offset: number): void;
  /** Hessian sum (boosting) or weight sum (classification) of totals. */
  weight(totals: Float64Array, offset: number): number;
  /** Rows behind totals, `rows` being the node's distinct rows. */
  count(totals: Float64Array, offset: number, rows: number): number;
  /** The gain a split of this node must exceed (the configured minimum, or a rounding-noise floor). */
  minimumGain(totals: Float64Array, offset: number, limits: GrowthLimits): number;
  /**
   * Scans one feature's split points and records a better split in `search`: split b sends bins 0…b
   * left, for b in [firstBin, lastBin); the bins below firstBin must be empty (a small node's range).
   */
  scanFeature(
    histogram: Float64Array,
    feature: number,
    binOffset: number,
    firstBin: number,
    lastBin: number,
    totals: Float64Array,
    offset: number,
    limits: GrowthLimits,
    search: SplitSearch,
  ): void;
  /**
   * Writes how another thread rebuilds these statistics (`statisticsFromDescription`): a kind, where
   * its arrays are in `memory` (they must live there) and numbers, at `integers[integerOffset…]` and
   * `numbers[numberOffset…]`.
   */
  describe(integers: Int32Array, integerOffset: number, numbers: Float64Array, numberOffset: number, memory: TrainingMemory): void;
}

const GRADIENT_KIND = 1;
const CLASS_WEIGHT_KIND = 2;

/** The statistics `describe` wrote, over the same arrays of `memory` (with this thread's kernels). */
export function statisticsFromDescription(
  integers: Int32Array,
  integerOffset: number,
  numbers: Float64Array,
  numberOffset: number,
  memory: TrainingMemory,
): NodeStatistics {
  const kind = integers[integerOffset];
  const at = (slot: number): [number, number] => [integers[integerOffset + slot], integers[integerOffset + slot + 1]];
  if (kind === GRADIENT_KIND) {
    return new GradientStatistics(memory.view(Float32Array, ...at(1)), numbers[numberOffset], integers[integerOffset + 3] !== 0, memory.kernels);
  }
  if (kind === CLASS_WEIGHT_KIND) {
    const hasCounts = integers[integerOffset + 8] !== 0;
    return new ClassWeightStatistics(
      integers[integerOffset + 1],
      memory.view(Int32Array, ...at(2)),
      memory.view(Float32Array, ...at(4)),
      hasCounts ? memory.view(Float32Array, ...at(6)) : undefined,
    );
  }
  throw new Error(`unknown node statistics kind ${kind}`);
}

/** Writes an array's place in `memory` (byte offset, length) at `integers[at…]`. */
function locate(memory: TrainingMemory, array: Float32Array | Int32Array, integers: Int32Array, at: number): void {
  integers[at] = memory.offsetOf(array);
  integers[at + 1] = array.length;
}

/** XGBoost's loss-change floor (kRtEps): smaller gains are rounding noise. */
const GRADIENT_GAIN_FLOOR = 1e-6;
/** A child whose hessian sum is below this is treated as empty (sums of subtracted histograms are not exact). */
const HESSIAN_FLOOR = 1e-6;

/**
 * Second-order boosting statistics: gain = G_L²/(H_L+λ) + G_R²/(H_R+λ) − G²/(H+λ) (XGBoost's loss
 * change, without the ½), leaf weight −G/(H+λ).
 */
export class GradientStatistics implements NodeStatistics {
  readonly channels: number;

  /**
   * @param pairs interleaved (gradient, hessian) per row, weights already applied
   * @param countRows add a row-count channel (only needed for a minimum of rows per leaf above 1)
   * @param kernels build histograms with these when the arrays live in their memory
   */
  constructor(
    readonly pairs: Float32Array,
    readonly l2Regularization: number,
    private readonly countRows: boolean,
    private readonly kernels?: HistogramKernels,
  ) {
    this.channels = countRows ? 3 : 2;
  }

  build(source: HistogramSource, histogram: Float64Array): void {
    if (this.countRows) accumulateGradientPairsAndCounts(source, this.pairs, histogram);
    else if (!this.kernels?.accumulateGradientPairs(source, this.pairs, histogram)) accumulateGradientPairs(source, this.pairs, histogram);
  }

  sumRows(rowIndices: Int32Array, start: number, end: number, totals: Float64Array, offset: number): void {
    let gradient = 0;
    let hessian = 0;
    for (let index = start; index < end; index++) {
      const row = rowIndices[index];
      gradient += this.pairs[2 * row];
      hessian += this.pairs[2 * row + 1];
    }
    totals[offset] = gradient;
    totals[offset + 1] = hessian;
    if (this.countRows) totals[offset + 2] = end - start;
  }

  weight(totals: Float64Array, offset: number): number {
    return totals[offset + 1];
  }

  count(totals: Float64Array, offset: number, rows: number): number {
    return this.countRows ? totals[offset + 2] : rows;
  }

  minimumGain(_totals: Float64Array, _offset: number, limits: GrowthLimits): number {
    return Math.max(limits.minSplitGain, GRADIENT_GAIN_FLOOR);
  }

  describe(integers: Int32Array, integerOffset: number, numbers: Float64Array, numberOffset: number, memory: TrainingMemory): void {
    integers[integerOffset] = GRADIENT_KIND;
    locate(memory, this.pairs, integers, integerOffset + 1);
    integers[integerOffset + 3] = this.countRows ? 1 : 0;
    numbers[numberOffset] = this.l2Regularization;
  }

  /** The optimal leaf weight −G/(H+λ) (before shrinkage). */
  leafWeight(totals: Float64Array, offset: number): number {
    return -totals[offset] / (totals[offset + 1] + this.l2Regularization);
  }

  scanFeature(
    histogram: Float64Array,
    feature: number,
    binOffset: number,
    firstBin: number,
    lastBin: number,
    totals: Float64Array,
    offset: number,
    limits: GrowthLimits,
    search: SplitSearch,
  ): void {
    const lambda = this.l2Regularization;
    const channels = this.channels;
    const gradient = totals[offset];
    const hessian = totals[offset + 1];
    const rows = this.countRows ? totals[offset + 2] : 0;
    const minimumHessian = Math.max(limits.minChildWeight, HESSIAN_FLOOR);
    const minimumRows = limits.minSamplesPerLeaf;
    const parentScore = (gradient * gradient) / (hessian + lambda);
    let leftGradient = 0;
    let leftHessian = 0;
    let leftRows = 0;
    for (let bin = firstBin; bin < lastBin; bin++) {
      const slot = (binOffset + bin) * channels;
      const binGradient = histogram[slot];
      const binHessian = histogram[slot + 1];
      // an empty bin splits the rows as the bin before it did (rows can only be counted with a count channel)
      if (binHessian === 0 && binGradient === 0 && !this.countRows) continue;
      leftGradient += binGradient;
      leftHessian += binHessian;
      if (this.countRows) {
        leftRows += histogram[slot + 2];
        if (leftRows < minimumRows) continue;
        if (rows - leftRows < minimumRows) break;
      }
      if (leftHessian < minimumHessian) continue;
      const rightHessian = hessian - leftHessian;
      if (rightHessian < minimumHessian) break;
      const rightGradient = gradient - leftGradient;
      const gain =
        (leftGradient * leftGradient) / (leftHessian + lambda) + (rightGradient * rightGradient) / (rightHessian + lambda) - parentScore;
      if (gain > search.gain) {
        search.gain = gain;
        search.feature = feature;
        search.bin = bin;
        search.left[0] = leftGradient;
        search.left[1] = leftHessian;
        if (this.countRows) search.left[2] = leftRows;
      }
    }
  }
}

/**
 * Classification statistics: one weight channel per class (+ a row-count channel when the weights are
 * not counts); gain = decrease of weighted Gini impurity, Σ_k L_k²/W_L + Σ_k R_k²/W_R − Σ_k P_k²/W.
 */
export class ClassWeightStatistics implements NodeStatistics {
  readonly channels: number;
  private readonly left: Float64Array;

  /**
   * @param labels class index per row
   * @param weights per row: sample weight × bootstrap draws (rows of weight 0 must not be in the node)
   * @param counts per row draws, when weights are not plain counts and a minimum of rows per leaf applies
   */
  constructor(
    readonly classCount: number,
    readonly labels: Int32Array,
    readonly weights: Float32Array,
    readonly counts: Float32Array | undefined,
  ) {
    this.channels = classCount + (counts === undefined ? 0 : 1);
    this.left = new Float64Array(classCount);
  }

  build(source: HistogramSource, histogram: Float64Array): void {
    accumulateClassWeights(source, this.labels, this.weights, this.counts, this.channels, histogram);
  }

  sumRows(rowIndices: Int32Array, start: number, end: number, totals: Float64Array, offset: number): void {
    totals.fill(0, offset, offset + this.channels);
    for (let index = start; index < end; index++) {
      const row = rowIndices[index];
      totals[offset + this.labels[row]] += this.weights[row];
      if (this.counts !== undefined) totals[offset + this.classCount] += this.counts[row];
    }
  }

  describe(integers: Int32Array, integerOffset: number, _numbers: Float64Array, _numberOffset: number, memory: TrainingMemory): void {
    integers[integerOffset] = CLASS_WEIGHT_KIND;
    integers[integerOffset + 1] = this.classCount;
    locate(memory, this.labels, integers, integerOffset + 2);
    locate(memory, this.weights, integers, integerOffset + 4);
    if (this.counts !== undefined) locate(memory, this.counts, integers, integerOffset + 6);
    integers[integerOffset + 8] = this.counts === undefined ? 0 : 1;
  }

  weight(totals: Float64Array, offset: number): number {
    let sum = 0;
    for (let label = 0; label < this.classCount; label++) sum += totals[offset + label];
    return sum;
  }

  count(totals: Float64Array, offset: number): number {
    return this.counts === undefined ? this.weight(totals, offset) : totals[offset + this.classCount];
  }

  minimumGain(totals: Float64Array, offset: number, limits: GrowthLimits): number {
    return Math.max(limits.minSplitGain, 1e-10 * this.weight(totals, offset));
  }

  scanFeature(
    histogram: Float64Array,
    feature: number,
    binOffset: number,
    firstBin: number,
    lastBin: number,
    totals: Float64Array,
    offset: number,
    limits: GrowthLimits,
    search: SplitSearch,
  ): void {
    const classCount = this.classCount;
    const channels = this.channels;
    const left = this.left;
    left.fill(0);
    let total = 0;
    let parentSquares = 0;
    for (let label = 0; label < classCount; label++) {
      const value = totals[offset + label];
      total += value;
      parentSquares += value * value;
    }
    const totalRows = this.counts === undefined ? total : totals[offset + classCount];
    const parentScore = parentSquares / total;
    const weightFloor = Math.max(limits.minChildWeight, 1e-10 * total);
    const minimumRows = limits.minSamplesPerLeaf;
    // with at most one row per leaf required, a child is non-empty when its weight is above the floor
    const checkRows = minimumRows > 1;
    let leftRows = 0;
    for (let bin = firstBin; bin < lastBin; bin++) {
      const slot = (binOffset + bin) * channels;
      let binWeight = 0;
      for (let label = 0; label < classCount; label++) binWeight += histogram[slot + label];
      // an empty bin splits the rows as the bin before it did (nodes hold no rows of weight 0)
      if (binWeight === 0) continue;
      let leftWeight = 0;
      let leftSquares = 0;
      let rightSquares = 0;
      for (let label = 0; label < classCount; label++) {
        const leftValue = left[label] + histogram[slot + label];
        left[label] = leftValue;
        leftWeight += leftValue;
        leftSquares += leftValue * leftValue;
        const rightValue = totals[offset + label] - leftValue;
        rightSquares += rightValue * rightValue;
      }
      leftRows = this.counts === undefined ? leftWeight : leftRows + histogram[slot + classCount];
      if (leftWeight < weightFloor) continue;
      const rightWeight = total - leftWeight;
      if (rightWeight < weightFloor) break;
      if (checkRows) {
        if (leftRows < minimumRows) continue;
        if (totalRows - leftRows < minimumRows) break;
      }
      const gain = leftSquares / leftWeight + rightSquares / rightWeight - parentScore;
      if (gain > search.gain) {
        search.gain = gain;
        search.feature = feature;
        search.bin = bin;
        for (let label = 0; label < classCount; label++) search.left[label] = left[label];
        if (this.counts !== undefined) search.left[classCount] = leftRows;
      }
    }
  }
}
