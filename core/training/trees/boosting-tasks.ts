/**
 * The work of a boosting round besides growing trees: the softmax gradients of every row (split by
 * rows over the threads) and, for three classes, the round's three root histograms in one pass
 * (split by features). Both compute each row's and each bin's value exactly as on one thread.
 */
import type { BinnedMatrix } from './binning';
import { accumulateThreeClassRootPairs, clearHistogram } from './histogram';
import { float32At, float64At, int32At, TASK_KINDS, taskRange, uint8At, type TaskEnvironment } from './task-kinds';
import type { TreeThreadPool } from './thread-pool';
import type { TrainingMemory } from './training-memory';

/** Integer parameters of the softmax job (an array takes two: byte offset and length). */
const SOFTMAX = { classCount: 0, rows: 1, blocks: 2, hasWeights: 3, labels: 4, weights: 6, arrays: 8 } as const;
/** Integer parameters of the root histograms job. */
const ROOTS = { rows: 0, featureCount: 1, blocks: 2, codes: 4, binOffsets: 6, features: 8, pairs: 10, histograms: 16 } as const;
/** The most classes a softmax job takes (four integers per class in the job's parameters). */
const MAX_PARALLEL_CLASSES = 250;

/** Scores, gradients and root histograms of one boosting run. */
export class BoostingRounds {
  /** Raw scores per class, one row each. */
  readonly scores: readonly Float64Array[];
  /** Per class, interleaved (gradient, hessian) per row. */
  readonly pairs: readonly Float32Array[];
  private readonly labels: Int32Array;
  private readonly weights: Float32Array | undefined;

  /**
   * @param binned its codes and bin layout must live in `memory`
   * @param threads share the work with these (then `memory` is theirs)
   */
  constructor(
    private readonly binned: BinnedMatrix,
    labels: Int32Array,
    weights: Float32Array | undefined,
    baseValues: Float32Array,
    private readonly memory: TrainingMemory,
    private readonly threads: TreeThreadPool | undefined,
  ) {
    const rows = binned.rows;
    this.scores = Array.from(baseValues, (base) => memory.float64(rows).fill(base));
    this.pairs = Array.from(baseValues, () => memory.float32(2 * rows));
    this.labels = memory.copy(labels);
    this.weights = weights === undefined ? undefined : memory.copy(weights);
  }

  /** The gradients and hessians of the softmax log loss at the current scores, times the row weights. */
  computeGradients(): void {
    const threads = this.threads;
    const rows = this.binned.rows;
    const classCount = this.scores.length;
    if (threads === undefined || classCount > MAX_PARALLEL_CLASSES) {
      softmaxGradients(this.scores, this.labels, this.weights, 0, rows, this.pairs);
      return;
    }
    const integers = threads.integers;
    integers[SOFTMAX.classCount] = classCount;
    integers[SOFTMAX.rows] = rows;
    threads.locate(this.labels, integers, SOFTMAX.labels);
    integers[SOFTMAX.hasWeights] = this.weights === undefined ? 0 : 1;
    if (this.weights !== undefined) threads.locate(this.weights, integers, SOFTMAX.weights);
    const blocks = Math.min(rows, 4 * threads.threads);
    integers[SOFTMAX.blocks] = blocks;
    for (let label = 0; label < classCount; label++) {
      threads.locate(this.scores[label], integers, SOFTMAX.arrays + 2 * label);
      threads.locate(this.pairs[label], integers, SOFTMAX.arrays + 2 * (classCount + label));
    }
    threads.run(TASK_KINDS.softmaxGradients, blocks);
  }

  /**
   * The root histograms of a round's three trees over `features` (all rows), into three buffers of
   * the memory.
   */
  buildThreeClassRoots(features: Int32Array, histograms: readonly [Float64Array, Float64Array, Float64Array]): void {
    const { codes, rows, binning } = this.binned;
    const threads = this.threads;
    const pairs = [this.pairs[0], this.pairs[1], this.pairs[2]] as const;
    if (threads === undefined) {
      buildRoots(this.memory, codes, rows, binning.binOffsets, features, pairs, histograms);
      return;
    }
    const integers = threads.integers;
    const list = threads.share(features);
    integers[ROOTS.rows] = rows;
    integers[ROOTS.featureCount] = features.length;
    threads.locate(codes, integers, ROOTS.codes);
    threads.locate(binning.binOffsets, integers, ROOTS.binOffsets);
    threads.locate(list, integers, ROOTS.features);
    const blocks = Math.max(1, Math.min(2 * threads.threads, Math.floor(features.length / 4)));
    integers[ROOTS.blocks] = blocks;
    for (let label = 0; label < 3; label++) {
      threads.locate(pairs[label], integers, ROOTS.pairs + 2 * label);
      threads.locate(histograms[label], integers, ROOTS.histograms + 2 * label);
    }
    threads.run(TASK_KINDS.threeClassRoots, blocks);
  }
}

/** Zeroes and builds three root histograms over `features`: WebAssembly when everything is in the memory, else JavaScript. */
function buildRoots(
  memory: TrainingMemory,
  codes: Uint8Array,
  rows: number,
  binOffsets: Int32Array,
  features: Int32Array,
  pairs: readonly [Float32Array, Float32Array, Float32Array],
  histograms: readonly [Float64Array, Float64Array, Float64Array],
): void {
  for (const histogram of histograms) clearHistogram(histogram, binOffsets, features, features.length, 2);
  if (!memory.kernels.accumulateThreeClassRootPairs(codes, rows, binOffsets, features, features.length, pairs, histograms)) {
    accumulateThreeClassRootPairs(codes, rows, binOffsets, features, features.length, pairs, histograms);
  }
}

/** One block of rows of the softmax job. */
export function runSoftmaxGradientsTask(environment: TaskEnvironment, task: number): void {
  const { integers } = environment;
  const classCount = integers[SOFTMAX.classCount];
  const [firstRow, endRow] = taskRange(task, integers[SOFTMAX.blocks], integers[SOFTMAX.rows]);
  const scores = Array.from({ length: classCount }, (_, label) => float64At(environment, SOFTMAX.arrays + 2 * label));
  const pairs = Array.from({ length: classCount }, (_, label) => float32At(environment, SOFTMAX.arrays + 2 * (classCount + label)));
  const weights = integers[SOFTMAX.hasWeights] === 0 ? undefined : float32At(environment, SOFTMAX.weights);
  softmaxGradients(scores, int32At(environment, SOFTMAX.labels), weights, firstRow, endRow, pairs);
}

/** One block of features of the root histograms job. */
export function runThreeClassRootsTask(environment: TaskEnvironment, task: number): void {
  const { integers } = environment;
  const [first, last] = taskRange(task, integers[ROOTS.blocks], integers[ROOTS.featureCount]);
  if (first === last) return;
  const features = int32At(environment, ROOTS.features).subarray(first, last);
  const histograms = [0, 1, 2].map((label) => float64At(environment, ROOTS.histograms + 2 * label)) as [Float64Array, Float64Array, Float64Array];
  const pairs = [0, 1, 2].map((label) => float32At(environment, ROOTS.pairs + 2 * label)) as [Float32Array, Float32Array, Float32Array];
  buildRoots(environment.memory, uint8At(environment, ROOTS.codes), integers[ROOTS.rows], int32At(environment, ROOTS.binOffsets), features, pairs, histograms);
}

/** Per class: interleaved (gradient, hessian) of the softmax log loss at the current scores (per class), times the row weight. */
function softmaxGradients(
  scores: readonly Float64Array[],
  labels: Int32Array,
  weights: Float32Array | undefined,
  firstRow: number,
  endRow: number,
  pairs: readonly Float32Array[],
): void {
  const classCount = scores.length;
  if (classCount === 3) {
    threeClassSoftmaxGradients(scores, labels, weights, firstRow, endRow, pairs);
    return;
  }
  const probabilities = new Float64Array(classCount);
  for (let row = firstRow; row < endRow; row++) {
    let maximum = scores[0][row];
    for (let label = 1; label < classCount; label++) maximum = Math.max(maximum, scores[label][row]);
    let sum = 0;
    for (let label = 0; label < classCount; label++) {
      const exponential = Math.exp(scores[label][row] - maximum);
      probabilities[label] = exponential;
      sum += exponential;
    }
    const weight = weights === undefined ? 1 : weights[row];
    const truth = labels[row];
    for (let label = 0; label < classCount; label++) {
      const probability = probabilities[label] / sum;
      const classPairs = pairs[label];
      classPairs[2 * row] = (probability - (label === truth ? 1 : 0)) * weight;
      classPairs[2 * row + 1] = Math.max(2 * probability * (1 - probability), 1e-16) * weight;
    }
  }
}

/** `softmaxGradients` for three classes, in locals (about twice as fast as the general loop). */
function threeClassSoftmaxGradients(
  scores: readonly Float64Array[],
  labels: Int32Array,
  weights: Float32Array | undefined,
  firstRow: number,
  endRow: number,
  pairs: readonly Float32Array[],
): void {
  const [scores0, scores1, scores2] = scores;
  const [pairs0, pairs1, pairs2] = pairs;
  for (let row = firstRow; row < endRow; row++) {
    const score0 = scores0[row];
    const score1 = scores1[row];
    const score2 = scores2[row];
    const maximum = Math.max(score0, score1, score2);
    const exponential0 = Math.exp(score0 - maximum);
    const exponential1 = Math.exp(score1 - maximum);
    const exponential2 = Math.exp(score2 - maximum);
    const inverseSum = 1 / (exponential0 + exponential1 + exponential2);
    const probability0 = exponential0 * inverseSum;
    const probability1 = exponential1 * inverseSum;
    const probability2 = exponential2 * inverseSum;
    const weight = weights === undefined ? 1 : weights[row];
    const truth = labels[row];
    pairs0[2 * row] = (probability0 - (truth === 0 ? 1 : 0)) * weight;
    pairs0[2 * row + 1] = Math.max(2 * probability0 * (1 - probability0), 1e-16) * weight;
    pairs1[2 * row] = (probability1 - (truth === 1 ? 1 : 0)) * weight;
    pairs1[2 * row + 1] = Math.max(2 * probability1 * (1 - probability1), 1e-16) * weight;
    pairs2[2 * row] = (probability2 - (truth === 2 ? 1 : 0)) * weight;
    pairs2[2 * row + 1] = Math.max(2 * probability2 * (1 - probability2), 1e-16) * weight;
  }
}

