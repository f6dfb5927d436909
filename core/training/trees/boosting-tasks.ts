/**
 * The work of a boosting round besides growing trees: the softmax gradients of every row (split by
 * rows over the threads) and, for three classes, the round's three root histograms in one pass
 * (split by features). Both compute each row's and each bin's value exactly as on one thread.
 */
import type { BinnedMatrix } from './binning';
import { leafOfBinnedRow, type GrownTree } from './grow';
import { accumulateThreeClassRootPairs, clearHistogram } from './histogram';
import { float32At, float64At, int32At, TASK_KINDS, taskRange, uint8At, type TaskEnvironment } from './task-kinds';
import { PARAMETER_INTEGERS, type TreeThreadPool } from './thread-pool';
import type { TrainingMemory } from './training-memory';

/** Integer parameters of the softmax job (an array takes two: byte offset and length). */
const SOFTMAX = { classCount: 0, rows: 1, blocks: 2, hasWeights: 3, labels: 4, weights: 6, arrays: 8 } as const;
/** Integer parameters of the scores job (trees' leaf values added to their classes' scores). */
const SCORES = { byLeaf: 0, nodeCount: 1, rows: 2, blocks: 3, codes: 4, nodes: 6, values: 8, treeCount: 10, restoreRowOrder: 11, trees: 16 } as const;
/** Per tree of the scores job: its class's scores, its row indices, where its nodes start in the table, its node count. */
const SCORES_TREE = { scores: 0, rowIndices: 2, nodeBase: 4, nodeCount: 5, size: 6 } as const;
/** Trees one scores job takes. */
const MAX_SCORED_TREES = Math.floor((PARAMETER_INTEGERS - SCORES.trees) / SCORES_TREE.size);
/** Per node in the scores job's node table: feature, bin, left, right (within its tree), row start, row end, tree. */
const NODE_FIELDS = 7;

/** Integer parameters of the root histograms job. */
const ROOTS = { rows: 0, featureCount: 1, blocks: 2, codes: 4, binOffsets: 6, features: 8, pairs: 10, histograms: 16 } as const;
/** The most classes a softmax job takes (four integers per class in the job's parameters). */
const MAX_PARALLEL_CLASSES = 250;

/** A grown tree whose leaf values (`valueOf(node)`) go to class `label`'s scores. */
export interface ScoredTree {
  readonly label: number;
  readonly tree: GrownTree;
  readonly valueOf: (node: number) => number;
}

/** Scores, gradients and root histograms of one boosting run. */
export class BoostingRounds {
  /** Raw scores per class, one row each. */
  readonly scores: readonly Float64Array[];
  /** Per class, interleaved (gradient, hessian) per row. */
  readonly pairs: readonly Float32Array[];
  private readonly labels: Int32Array;
  private readonly weights: Float32Array | undefined;
  private nodeTable: Int32Array;
  private nodeValues: Float64Array;

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
    this.nodeTable = memory.int32(0);
    this.nodeValues = memory.float64(0);
  }

  /**
   * Adds grown trees' leaf values (`valueOf(node)`) to their classes' scores (`label`), in one job:
   * by the leaves' row segments when the trees saw every row (`rowCount` of them), else by walking
   * every row down each tree. Each row gets one addition per tree, whichever thread makes it.
   *
   * @param restoreRowOrder by leaves only: then put each tree's row indices back in order (0…rows−1),
   *   ready for the next tree grown on every row
   */
  addTreesToScores(trees: readonly ScoredTree[], rowCount: number, restoreRowOrder = false): void {
    const { rows, codes } = this.binned;
    const byLeaf = rowCount === rows;
    const threads = this.threads;
    if (threads === undefined || trees.length > MAX_SCORED_TREES) {
      for (const { label, tree, valueOf } of trees) {
        const scores = this.scores[label];
        if (byLeaf) {
          for (let node = 0; node < tree.nodeCount; node++) {
            if (tree.feature[node] < 0) addToSegment(scores, tree.rowIndices, tree.rowStart[node], tree.rowEnd[node], valueOf(node), restoreRowOrder);
          }
        } else {
          for (let row = 0; row < rows; row++) scores[row] += valueOf(leafOfBinnedRow(tree, codes, rows, row));
        }
      }
      return;
    }
    let count = 0;
    for (const { tree } of trees) count += tree.nodeCount;
    if (this.nodeTable.length < count * NODE_FIELDS) {
      this.nodeTable = this.memory.int32(2 * count * NODE_FIELDS);
      this.nodeValues = this.memory.float64(2 * count);
    }
    const table = this.nodeTable;
    const integers = threads.integers;
    let nodeBase = 0;
    trees.forEach(({ label, tree, valueOf }, index) => {
      for (let node = 0; node < tree.nodeCount; node++) {
        const at = (nodeBase + node) * NODE_FIELDS;
        table[at] = tree.feature[node];
        table[at + 1] = tree.bin[node];
        table[at + 2] = tree.left[node];
        table[at + 3] = tree.right[node];
        table[at + 4] = tree.rowStart[node];
        table[at + 5] = tree.rowEnd[node];
        table[at + 6] = index;
        this.nodeValues[nodeBase + node] = tree.feature[node] < 0 ? valueOf(node) : 0;
      }
      const slot = SCORES.trees + index * SCORES_TREE.size;
      threads.locate(this.scores[label], integers, slot + SCORES_TREE.scores);
      threads.locate(tree.rowIndices, integers, slot + SCORES_TREE.rowIndices);
      integers[slot + SCORES_TREE.nodeBase] = nodeBase;
      integers[slot + SCORES_TREE.nodeCount] = tree.nodeCount;
      nodeBase += tree.nodeCount;
    });
    integers[SCORES.byLeaf] = byLeaf ? 1 : 0;
    integers[SCORES.nodeCount] = count;
    integers[SCORES.rows] = rows;
    integers[SCORES.treeCount] = trees.length;
    integers[SCORES.restoreRowOrder] = byLeaf && restoreRowOrder ? 1 : 0;
    const blocks = Math.min(byLeaf ? count : rows, 4 * threads.threads);
    integers[SCORES.blocks] = blocks;
    threads.locate(codes, integers, SCORES.codes);
    threads.locate(table, integers, SCORES.nodes);
    threads.locate(this.nodeValues, integers, SCORES.values);
    threads.run(TASK_KINDS.addLeafValues, blocks);
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
    const blocks = Math.max(1, Math.min(4 * threads.threads, Math.floor(features.length / 4)));
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

/** Adds a leaf's value to the scores of its segment's rows; then, with `restoreRowOrder`, sets each position of the segment to its own index. */
function addToSegment(scores: Float64Array, rowIndices: Int32Array, start: number, end: number, value: number, restoreRowOrder: boolean): void {
  for (let index = start; index < end; index++) scores[rowIndices[index]] += value;
  if (restoreRowOrder) for (let index = start; index < end; index++) rowIndices[index] = index;
}

/** One block of the scores job: a range of the trees' nodes (their leaves' segments), or a range of rows walked down every tree. */
export function runAddLeafValuesTask(environment: TaskEnvironment, task: number): void {
  const { integers } = environment;
  const table = int32At(environment, SCORES.nodes);
  const values = float64At(environment, SCORES.values);
  const treeCount = integers[SCORES.treeCount];
  const treeAt = (tree: number): number => SCORES.trees + tree * SCORES_TREE.size;
  const scores = Array.from({ length: treeCount }, (_, tree) => float64At(environment, treeAt(tree) + SCORES_TREE.scores));
  if (integers[SCORES.byLeaf] !== 0) {
    const rowIndices = Array.from({ length: treeCount }, (_, tree) => int32At(environment, treeAt(tree) + SCORES_TREE.rowIndices));
    const restoreRowOrder = integers[SCORES.restoreRowOrder] !== 0;
    const [first, last] = taskRange(task, integers[SCORES.blocks], integers[SCORES.nodeCount]);
    for (let node = first; node < last; node++) {
      const base = node * NODE_FIELDS;
      if (table[base] < 0) addToSegment(scores[table[base + 6]], rowIndices[table[base + 6]], table[base + 4], table[base + 5], values[node], restoreRowOrder);
    }
    return;
  }
  const codes = uint8At(environment, SCORES.codes);
  const rows = integers[SCORES.rows];
  const [first, last] = taskRange(task, integers[SCORES.blocks], rows);
  for (let tree = 0; tree < treeCount; tree++) {
    const nodeBase = integers[treeAt(tree) + SCORES_TREE.nodeBase];
    const treeScores = scores[tree];
    for (let row = first; row < last; row++) {
      let node = 0;
      while (table[(nodeBase + node) * NODE_FIELDS] >= 0) {
        const base = (nodeBase + node) * NODE_FIELDS;
        node = codes[table[base] * rows + row] <= table[base + 1] ? table[base + 2] : table[base + 3];
      }
      treeScores[row] += values[nodeBase + node];
    }
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

