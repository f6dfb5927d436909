/**
 * The tree-growing engine shared by the decision tree, the random forest and gradient boosting.
 *
 * A node owns a contiguous segment of `rowIndices` (kept in ascending row order, so column reads stay
 * sequential); splitting it partitions the segment in place. When a node is created its best split
 * is searched on its histogram and, if one gains enough, the node becomes a candidate. Candidates are
 * expanded level by level (`depthwise`) or best gain first (`lossguide`) until the leaf budget is spent.
 *
 * Two histogram regimes, chosen per tree:
 * - subtraction (most features examined per node, as in boosting and CART): a candidate keeps its
 *   histogram over all of the tree's features; on expansion only the child with fewer rows is built,
 *   and the parent's buffer becomes the sibling (parent − child). Column sampling by node only
 *   restricts which features are scanned.
 * - direct (few features per node, as in random forests): each node builds a scratch histogram of
 *   just its sampled features; nothing is kept, which is cheaper than all features at half the rows.
 */
import type { BinnedMatrix, FeatureBinning } from './binning';
import { clearHistogram, HistogramPool, subtractHistogram, type HistogramSource } from './histogram';
import type { HistogramKernels } from './histogram-kernels';
import { MAX_PARALLEL_CHANNELS, ParallelNodeSearch, type ScanRequest } from './node-search';
import { SplitSearch, type GrowthLimits, type NodeStatistics } from './node-statistics';
import type { SeededRandom } from './random';
import type { TreeThreadPool } from './thread-pool';
import type { TrainingMemory } from './training-memory';
import { InvalidOptionsError } from '../../errors';
import type { TreeIR } from '../model';

export interface GrowRequest {
  readonly statistics: NodeStatistics;
  /** The tree's rows in `[0, rowCount)`, ascending; permuted in place into the leaves' segments. */
  readonly rowIndices: Int32Array;
  readonly rowCount: number;
  /** Features this tree may split on (after column sampling by tree), ascending. */
  readonly treeFeatures: Int32Array;
  /** Features examined per node, sampled from `treeFeatures` (all of them when equal to its length). */
  readonly nodeFeatureCount: number;
  readonly limits: GrowthLimits;
  readonly random: SeededRandom;
  /** Histogram regime; `auto` picks subtraction when more than half the tree's features are examined per node. @default 'auto' */
  readonly histogramRegime?: 'auto' | 'subtraction' | 'direct';
  /**
   * The root's histogram over the tree's features, already built (e.g. several trees' roots in one
   * pass), from this grower's `acquireHistogram`; the grower releases it.
   */
  readonly rootHistogram?: Float64Array;
}

/**
 * A grown tree over bin codes. Node 0 is the root; a leaf has `feature` −1. Rows with
 * `code[feature] <= bin` went left. The arrays are views into the grower's buffers, valid until its
 * next `grow`.
 */
export interface GrownTree {
  readonly nodeCount: number;
  readonly feature: Int32Array;
  readonly bin: Int32Array;
  readonly left: Int32Array;
  readonly right: Int32Array;
  readonly depth: Int32Array;
  /** The node's rows are `rowIndices[rowStart[node] … rowEnd[node])`. */
  readonly rowStart: Int32Array;
  readonly rowEnd: Int32Array;
  readonly rowIndices: Int32Array;
  /** Statistics totals, nodeCount × channels. */
  readonly totals: Float64Array;
  readonly channels: number;
}

/** Candidates keep their histograms only when at least this many rows would otherwise be rebuilt. */
const RETAIN_MIN_ROWS = 512;
/** Nodes of at most this many rows build a sparse histogram (see `evaluateSmall`). */
const SMALL_NODE_ROWS = 256;
/** Memory the retained histograms of one tree may take before nodes rebuild theirs directly. */
const RETAINED_HISTOGRAM_BYTES = 256 * 1024 * 1024;
/** A node search goes to the threads from this much work (rows × features built, plus features scanned × 64). */
const PARALLEL_MIN_WORK = 32 * 1024;

/** A node whose split is searched, on a histogram, over some of the tree's features. */
interface NodeScan {
  readonly node: number;
  readonly histogram: Float64Array;
  readonly features: Int32Array;
  readonly count: number;
}

/** Grows trees over one binned matrix, reusing its buffers from tree to tree. */
export class TreeGrower {
  private readonly binning: FeatureBinning;
  private readonly pool: HistogramPool;
  private readonly maxRetained: number;
  private readonly search: SplitSearch;
  /** The split searches of the (at most two) nodes of a parallel search. */
  private readonly parallelSearches: readonly [SplitSearch, SplitSearch];
  private readonly parallel: ParallelNodeSearch | undefined;
  private readonly partitionScratch: Int32Array;
  private readonly kernels: HistogramKernels | undefined;
  /** Sampled features of the (at most two) nodes searched together. */
  private readonly nodeFeatures: readonly [Int32Array, Int32Array];
  private readonly featurePool: Int32Array;
  private nodeCount = 0;
  private capacity = 0;
  private feature = new Int32Array(0);
  private bin = new Int32Array(0);
  private left = new Int32Array(0);
  private right = new Int32Array(0);
  private depth = new Int32Array(0);
  private rowStart = new Int32Array(0);
  private rowEnd = new Int32Array(0);
  private totals = new Float64Array(0);
  private candidateFeature = new Int32Array(0);
  private candidateBin = new Int32Array(0);
  private candidateLeft = new Float64Array(0);
  private histograms: (Float64Array | null)[] = [];
  private directHistogram: Float64Array | undefined;
  /** The small-node buffer: all zeros between uses. */
  private zeroedHistogram: Float64Array | undefined;
  private readonly lowestCode: Int32Array;
  private readonly highestCode: Int32Array;
  // the request being grown
  private request!: GrowRequest;
  private subtraction = false;
  private queue!: CandidateQueue;

  /**
   * @param memory histograms live here (so the WebAssembly kernels can build them) @default plain arrays
   * @param threads searches nodes on these when they are more than one (then `memory` must be theirs,
   *   and the row indices and statistics of every request must live in it); the trees are the same either way
   */
  constructor(
    private readonly binned: BinnedMatrix,
    /** Channels of every `NodeStatistics` this grower will be given. */
    private readonly channels: number,
    memory?: TrainingMemory,
    threads?: TreeThreadPool,
  ) {
    this.binning = binned.binning;
    const histogramLength = this.binning.binOffsets[binned.columns] * channels;
    const parallel = threads !== undefined && threads.threads > 1 && channels <= MAX_PARALLEL_CHANNELS;
    this.parallel = parallel ? new ParallelNodeSearch(threads, binned, channels) : undefined;
    this.pool = new HistogramPool(histogramLength, memory === undefined ? undefined : (length) => memory.float64(length));
    this.maxRetained = Math.max(8, Math.floor(RETAINED_HISTOGRAM_BYTES / (8 * this.pool.length)));
    this.search = new SplitSearch(channels);
    this.parallelSearches = [new SplitSearch(channels), new SplitSearch(channels)];
    this.partitionScratch = memory?.int32(binned.rows) ?? new Int32Array(binned.rows);
    this.kernels = memory?.kernels;
    this.nodeFeatures = [new Int32Array(binned.columns), new Int32Array(binned.columns)];
    this.featurePool = new Int32Array(binned.columns);
    this.lowestCode = new Int32Array(binned.columns);
    this.highestCode = new Int32Array(binned.columns);
    this.ensureCapacity(64);
  }

  grow(request: GrowRequest): GrownTree {
    if (request.statistics.channels !== this.channels) {
      throw new InvalidOptionsError('tree growth request', [`statistics have ${request.statistics.channels} channels, the grower ${this.channels}`]);
    }
    this.request = request;
    const regime = request.histogramRegime ?? 'auto';
    this.subtraction = regime === 'auto' ? request.nodeFeatureCount * 2 > request.treeFeatures.length : regime === 'subtraction';
    this.queue = request.limits.growPolicy === 'lossguide' ? new BestGainQueue() : new LevelQueue();
    this.nodeCount = 0;
    const root = this.addNode(0, 0, request.rowCount);
    request.statistics.sumRows(request.rowIndices, 0, request.rowCount, this.totals, root * this.channels);
    const prebuilt = request.rootHistogram;
    if (!this.isSplittable(root) || !this.subtraction) {
      if (prebuilt !== undefined) this.pool.release(prebuilt);
      if (this.isSplittable(root)) this.evaluateDirect(root);
    } else if (prebuilt !== undefined) {
      this.evaluate(root, prebuilt);
    } else {
      this.evaluateBuilt(root);
    }
    let leaves = 1;
    while (this.queue.size > 0 && leaves < request.limits.maxLeaves) {
      this.expand(this.queue.pop());
      leaves++;
    }
    for (let node = 0; node < this.nodeCount; node++) {
      const histogram = this.histograms[node];
      if (histogram !== null) {
        this.pool.release(histogram);
        this.histograms[node] = null;
      }
    }
    const count = this.nodeCount;
    return {
      nodeCount: count,
      feature: this.feature.subarray(0, count),
      bin: this.bin.subarray(0, count),
      left: this.left.subarray(0, count),
      right: this.right.subarray(0, count),
      depth: this.depth.subarray(0, count),
      rowStart: this.rowStart.subarray(0, count),
      rowEnd: this.rowEnd.subarray(0, count),
      rowIndices: request.rowIndices,
      totals: this.totals.subarray(0, count * this.channels),
      channels: this.channels,
    };
  }

  /** A histogram buffer of this grower's size (content unspecified), for a `rootHistogram`. */
  acquireHistogram(): Float64Array {
    return this.pool.acquire();
  }

  private addNode(depth: number, start: number, end: number): number {
    if (this.nodeCount === this.capacity) this.ensureCapacity(this.capacity * 2);
    const node = this.nodeCount++;
    this.feature[node] = -1;
    this.bin[node] = -1;
    this.left[node] = -1;
    this.right[node] = -1;
    this.depth[node] = depth;
    this.rowStart[node] = start;
    this.rowEnd[node] = end;
    this.histograms[node] = null;
    return node;
  }

  private isSplittable(node: number): boolean {
    const { limits, statistics } = this.request;
    const rows = this.rowEnd[node] - this.rowStart[node];
    if (this.depth[node] >= limits.maxDepth || rows < 2) return false;
    const offset = node * this.channels;
    if (statistics.weight(this.totals, offset) < 2 * limits.minChildWeight) return false;
    return limits.minSamplesPerLeaf <= 1 || statistics.count(this.totals, offset, rows) >= 2 * limits.minSamplesPerLeaf;
  }

  /** Splits a candidate: partitions its rows, creates both children, builds or derives their histograms. */
  private expand(node: number): void {
    const { rowIndices } = this.request;
    const channels = this.channels;
    const splitFeature = this.candidateFeature[node];
    const splitBin = this.candidateBin[node];
    const start = this.rowStart[node];
    const end = this.rowEnd[node];
    const middle = this.partition(rowIndices, start, end, splitFeature * this.binned.rows, splitBin);
    const leftChild = this.addNode(this.depth[node] + 1, start, middle);
    const rightChild = this.addNode(this.depth[node] + 1, middle, end);
    this.feature[node] = splitFeature;
    this.bin[node] = splitBin;
    this.left[node] = leftChild;
    this.right[node] = rightChild;
    const parentOffset = node * channels;
    for (let channel = 0; channel < channels; channel++) {
      const leftTotal = this.candidateLeft[parentOffset + channel];
      this.totals[leftChild * channels + channel] = leftTotal;
      this.totals[rightChild * channels + channel] = this.totals[parentOffset + channel] - leftTotal;
    }
    const leftSplittable = this.isSplittable(leftChild);
    const rightSplittable = this.isSplittable(rightChild);
    const parentHistogram = this.histograms[node];
    this.histograms[node] = null;
    if (!this.subtraction) {
      if (leftSplittable) this.evaluateDirect(leftChild);
      if (rightSplittable) this.evaluateDirect(rightChild);
      return;
    }
    if (parentHistogram === null) {
      if (leftSplittable) this.evaluateFresh(leftChild);
      if (rightSplittable) this.evaluateFresh(rightChild);
      return;
    }
    if (!leftSplittable && !rightSplittable) {
      this.pool.release(parentHistogram);
      return;
    }
    const smallIsLeft = middle - start <= end - middle;
    if (!(smallIsLeft ? rightSplittable : leftSplittable)) {
      // only the smaller child goes on: nothing to derive
      this.pool.release(parentHistogram);
      this.evaluateFresh(smallIsLeft ? leftChild : rightChild);
      return;
    }
    // build the smaller child, turn the parent's histogram into the larger one's, search both
    const smallChild = smallIsLeft ? leftChild : rightChild;
    const smallHistogram = this.pool.acquire();
    const leftHistogram = smallIsLeft ? smallHistogram : parentHistogram;
    const rightHistogram = smallIsLeft ? parentHistogram : smallHistogram;
    const scans: NodeScan[] = [];
    if (leftSplittable) scans.push(this.nodeScan(leftChild, leftHistogram, 0));
    if (rightSplittable) scans.push(this.nodeScan(rightChild, rightHistogram, scans.length));
    const { treeFeatures } = this.request;
    const found = this.searchNodes(smallChild, smallHistogram, parentHistogram, treeFeatures, treeFeatures.length, scans);
    if (leftSplittable) this.keepOrRelease(leftChild, leftHistogram, found[0]);
    else this.pool.release(leftHistogram);
    if (rightSplittable) this.keepOrRelease(rightChild, rightHistogram, found[scans.length - 1]);
    else this.pool.release(rightHistogram);
  }

  /** Subtraction regime without a parent histogram: builds the node's own (a small node's the cheap way). */
  private evaluateFresh(node: number): void {
    if (this.rowEnd[node] - this.rowStart[node] > SMALL_NODE_ROWS) {
      this.evaluateBuilt(node);
      return;
    }
    const { features, count } = this.featuresOf(0);
    this.evaluateSmall(node, features, count);
  }

  /** Subtraction regime: builds a pooled histogram of the node over all the tree's features and searches it. */
  private evaluateBuilt(node: number): void {
    const { treeFeatures } = this.request;
    const histogram = this.pool.acquire();
    const scan = this.nodeScan(node, histogram, 0);
    const [found] = this.searchNodes(node, histogram, undefined, treeFeatures, treeFeatures.length, [scan]);
    this.keepOrRelease(node, histogram, found);
  }

  /** Subtraction regime: searches the node's split on its full histogram, keeps the histogram if a candidate. */
  private evaluate(node: number, histogram: Float64Array): void {
    const scan = this.nodeScan(node, histogram, 0);
    const [found] = this.searchNodes(-1, undefined, undefined, scan.features, scan.count, [scan]);
    this.keepOrRelease(node, histogram, found);
  }

  /** A searched node keeps its histogram (for its children) when it is a candidate worth it and memory allows. */
  private keepOrRelease(node: number, histogram: Float64Array, isCandidate: boolean): void {
    const rows = this.rowEnd[node] - this.rowStart[node];
    if (isCandidate && rows >= RETAIN_MIN_ROWS && this.pool.inUse <= this.maxRetained) this.histograms[node] = histogram;
    else this.pool.release(histogram);
  }

  /** Direct regime: builds a scratch histogram of the node's sampled features and searches its split. */
  private evaluateDirect(node: number): void {
    const { features, count } = this.featuresOf(0);
    if (this.rowEnd[node] - this.rowStart[node] <= SMALL_NODE_ROWS) {
      this.evaluateSmall(node, features, count);
      return;
    }
    this.directHistogram ??= this.pool.allocate();
    this.searchNodes(node, this.directHistogram, undefined, features, count, [{ node, histogram: this.directHistogram, features, count }]);
  }

  /** A node's search on a histogram over the features `featuresOf(slot)` picks. */
  private nodeScan(node: number, histogram: Float64Array, slot: number): NodeScan {
    return { node, histogram, ...this.featuresOf(slot) };
  }

  /** The features a node examines: all the tree's, or a fresh sample (in `nodeFeatures[slot]`). */
  private featuresOf(slot: number): { readonly features: Int32Array; readonly count: number } {
    const { treeFeatures, nodeFeatureCount } = this.request;
    const features = nodeFeatureCount < treeFeatures.length ? this.sampleNodeFeatures(this.nodeFeatures[slot]) : treeFeatures;
    return { features, count: Math.min(nodeFeatureCount, treeFeatures.length) };
  }

  /**
   * Builds `histogram` from the rows of `buildNode` over `buildFeatures` (unless buildNode is −1),
   * then `subtractFrom −= histogram`, then searches each scan's split (candidates join the queue in
   * scan order). On the threads when there is enough work; the result is the same either way.
   * Returns, per scan, whether the node became a candidate.
   */
  private searchNodes(
    buildNode: number,
    histogram: Float64Array | undefined,
    subtractFrom: Float64Array | undefined,
    buildFeatures: Int32Array,
    buildCount: number,
    scans: readonly NodeScan[],
  ): boolean[] {
    const { statistics, limits, rowIndices } = this.request;
    const channels = this.channels;
    const buildRows = buildNode < 0 ? 0 : this.rowEnd[buildNode] - this.rowStart[buildNode];
    let work = buildRows * buildCount;
    for (const scan of scans) work += scan.count * 64;
    if (this.parallel === undefined || work < PARALLEL_MIN_WORK) {
      if (buildNode >= 0 && histogram !== undefined) {
        clearHistogram(histogram, this.binning.binOffsets, buildFeatures, buildCount, channels);
        statistics.build(this.source(buildNode, buildFeatures, buildCount), histogram);
        if (subtractFrom !== undefined) subtractHistogram(subtractFrom, histogram, this.binning.binOffsets, buildFeatures, buildCount, channels);
      }
      return scans.map((scan) => this.searchSplit(scan.node, scan.histogram, scan.features, scan.count));
    }
    const requests: ScanRequest[] = scans.map((scan, index) => {
      const search = this.parallelSearches[index];
      const offset = scan.node * channels;
      search.reset(statistics.minimumGain(this.totals, offset, limits));
      return { histogram: scan.histogram, features: scan.features, count: scan.count, totals: this.totals, offset, search };
    });
    const build =
      buildNode >= 0 && histogram !== undefined ? { histogram, start: this.rowStart[buildNode], end: this.rowEnd[buildNode], subtractFrom } : undefined;
    this.parallel.run(statistics, limits, rowIndices, buildFeatures, buildCount, build, requests);
    return scans.map((scan, index) => this.acceptSplit(scan.node, this.parallelSearches[index]));
  }

  /**
   * A node of few rows: clearing and scanning every bin would cost more than its rows, so the
   * histogram goes to a buffer kept all-zero between uses, only each feature's occupied code range is
   * scanned, and only that range is zeroed again afterwards.
   */
  private evaluateSmall(node: number, features: Int32Array, count: number): void {
    const { codes, rows } = this.binned;
    const { binOffsets } = this.binning;
    const { rowIndices, statistics } = this.request;
    const start = this.rowStart[node];
    const end = this.rowEnd[node];
    for (let next = 0; next < count; next++) {
      const feature = features[next];
      const column = feature * rows;
      let lowest = 255;
      let highest = 0;
      for (let index = start; index < end; index++) {
        const code = codes[column + rowIndices[index]];
        lowest = Math.min(lowest, code);
        highest = Math.max(highest, code);
      }
      this.lowestCode[feature] = lowest;
      this.highestCode[feature] = highest;
    }
    this.zeroedHistogram ??= this.pool.allocate();
    const histogram = this.zeroedHistogram;
    statistics.build(this.source(node, features, count), histogram);
    this.searchSplit(node, histogram, features, count, true);
    const channels = this.channels;
    for (let next = 0; next < count; next++) {
      const feature = features[next];
      const firstSlot = (binOffsets[feature] + this.lowestCode[feature]) * channels;
      histogram.fill(0, firstSlot, (binOffsets[feature] + this.highestCode[feature] + 1) * channels);
    }
  }

  /** @param ranged scan only each feature's [lowestCode, highestCode] (a small node's histogram) */
  private searchSplit(node: number, histogram: Float64Array, features: Int32Array, count: number, ranged = false): boolean {
    const { statistics, limits } = this.request;
    const { binOffsets, binCounts } = this.binning;
    const search = this.search;
    const offset = node * this.channels;
    search.reset(statistics.minimumGain(this.totals, offset, limits));
    for (let next = 0; next < count; next++) {
      const feature = features[next];
      const firstBin = ranged ? this.lowestCode[feature] : 0;
      const lastBin = ranged ? this.highestCode[feature] : binCounts[feature] - 1;
      statistics.scanFeature(histogram, feature, binOffsets[feature], firstBin, lastBin, this.totals, offset, limits, search);
    }
    return this.acceptSplit(node, search);
  }

  /** Makes the node a candidate with the search's split, if it found one. */
  private acceptSplit(node: number, search: SplitSearch): boolean {
    if (search.feature < 0) return false;
    const offset = node * this.channels;
    this.candidateFeature[node] = search.feature;
    this.candidateBin[node] = search.bin;
    this.candidateLeft.set(search.left, offset);
    this.queue.push(node, search.gain);
    return true;
  }

  /** `nodeFeatureCount` of the tree's features, uniformly without replacement, ascending, into `chosen`. */
  private sampleNodeFeatures(chosen: Int32Array): Int32Array {
    const { treeFeatures, nodeFeatureCount, random } = this.request;
    const pool = this.featurePool;
    const total = treeFeatures.length;
    pool.set(treeFeatures);
    for (let index = 0; index < nodeFeatureCount; index++) {
      const pick = index + random.nextInt(total - index);
      const swap = pool[index];
      pool[index] = pool[pick];
      pool[pick] = swap;
    }
    // insertion sort of the few chosen: ascending features read the histogram in order
    for (let index = 0; index < nodeFeatureCount; index++) {
      const value = pool[index];
      let place = index;
      while (place > 0 && chosen[place - 1] > value) {
        chosen[place] = chosen[place - 1];
        place--;
      }
      chosen[place] = value;
    }
    return chosen;
  }

  private source(node: number, features: Int32Array, featureCount: number): HistogramSource {
    return {
      codes: this.binned.codes,
      rows: this.binned.rows,
      binOffsets: this.binning.binOffsets,
      rowIndices: this.request.rowIndices,
      start: this.rowStart[node],
      end: this.rowEnd[node],
      features,
      featureCount,
    };
  }

  /**
   * Stable in-place partition of a segment: rows whose code is <= bin first. Returns where the right
   * rows start. Branch-free (each row is written to both sides, the side's cursor advances): which
   * side a row takes is data-dependent and a branch would mispredict about half the time.
   */
  private partition(rowIndices: Int32Array, start: number, end: number, column: number, bin: number): number {
    const codes = this.binned.codes;
    const scratch = this.partitionScratch;
    const middle = this.kernels?.partition(codes, rowIndices, start, end, column, bin, scratch) ?? -1;
    if (middle >= 0) return middle;
    let write = start;
    let rightCount = 0;
    for (let index = start; index < end; index++) {
      const row = rowIndices[index];
      // eslint-disable-next-line no-bitwise -- the sign bit of bin − code: 1 when the row goes right
      const goesRight = (bin - codes[column + row]) >>> 31;
      rowIndices[write] = row;
      scratch[rightCount] = row;
      write += 1 - goesRight;
      rightCount += goesRight;
    }
    rowIndices.set(scratch.subarray(0, rightCount), write);
    return write;
  }

  private ensureCapacity(capacity: number): void {
    const grow = <T extends Int32Array | Float64Array>(array: T, size: number): T => {
      const next = new (array.constructor as new (length: number) => T)(size);
      next.set(array);
      return next;
    };
    const channels = this.channels;
    this.feature = grow(this.feature, capacity);
    this.bin = grow(this.bin, capacity);
    this.left = grow(this.left, capacity);
    this.right = grow(this.right, capacity);
    this.depth = grow(this.depth, capacity);
    this.rowStart = grow(this.rowStart, capacity);
    this.rowEnd = grow(this.rowEnd, capacity);
    this.totals = grow(this.totals, capacity * channels);
    this.candidateFeature = grow(this.candidateFeature, capacity);
    this.candidateBin = grow(this.candidateBin, capacity);
    this.candidateLeft = grow(this.candidateLeft, capacity * channels);
    this.capacity = capacity;
  }
}

interface CandidateQueue {
  readonly size: number;
  push(node: number, gain: number): void;
  pop(): number;
}

/** Depthwise: candidates in creation order, which is level order. */
class LevelQueue implements CandidateQueue {
  private readonly nodes: number[] = [];
  private head = 0;

  get size(): number {
    return this.nodes.length - this.head;
  }

  push(node: number): void {
    this.nodes.push(node);
  }

  pop(): number {
    return this.nodes[this.head++];
  }
}

/** Lossguide: the largest gain first; equal gains by node id, so growth is deterministic. */
class BestGainQueue implements CandidateQueue {
  private readonly nodes: number[] = [];
  private readonly gains: number[] = [];

  get size(): number {
    return this.nodes.length;
  }

  push(node: number, gain: number): void {
    const nodes = this.nodes;
    const gains = this.gains;
    let index = nodes.length;
    nodes.push(node);
    gains.push(gain);
    while (index > 0) {
      const parent = Math.floor((index - 1) / 2);
      if (!this.before(index, parent)) break;
      this.swap(index, parent);
      index = parent;
    }
  }

  pop(): number {
    const nodes = this.nodes;
    const top = nodes[0];
    const lastNode = nodes.pop()!;
    const lastGain = this.gains.pop()!;
    if (nodes.length > 0) {
      nodes[0] = lastNode;
      this.gains[0] = lastGain;
      let index = 0;
      for (;;) {
        const first = 2 * index + 1;
        const second = first + 1;
        let best = index;
        if (first < nodes.length && this.before(first, best)) best = first;
        if (second < nodes.length && this.before(second, best)) best = second;
        if (best === index) break;
        this.swap(index, best);
        index = best;
      }
    }
    return top;
  }

  private before(a: number, b: number): boolean {
    return this.gains[a] > this.gains[b] || (this.gains[a] === this.gains[b] && this.nodes[a] < this.nodes[b]);
  }

  private swap(a: number, b: number): void {
    const node = this.nodes[a];
    this.nodes[a] = this.nodes[b];
    this.nodes[b] = node;
    const gain = this.gains[a];
    this.gains[a] = this.gains[b];
    this.gains[b] = gain;
  }
}

/** The leaf a binned row reaches in a grown tree. */
export function leafOfBinnedRow(tree: GrownTree, codes: Uint8Array, rows: number, row: number): number {
  let node = 0;
  while (tree.feature[node] >= 0) {
    node = codes[tree.feature[node] * rows + row] <= tree.bin[node] ? tree.left[node] : tree.right[node];
  }
  return node;
}

/**
 * The IR of a grown tree: thresholds are the bins' float32 upper bounds, leaves get their values from
 * `writeLeaf(node, values, node · classCount)` (a row of `classCount` scores).
 */
export function grownTreeToIR(
  tree: GrownTree,
  binning: FeatureBinning,
  classCount: number,
  writeLeaf: (node: number, values: Float32Array, offset: number) => void,
): TreeIR {
  const count = tree.nodeCount;
  const threshold = new Float32Array(count);
  const value = new Float32Array(count * classCount);
  for (let node = 0; node < count; node++) {
    const splitFeature = tree.feature[node];
    if (splitFeature >= 0) threshold[node] = binning.upperBounds[binning.binOffsets[splitFeature] + tree.bin[node]];
    else writeLeaf(node, value, node * classCount);
  }
  return {
    feature: Int32Array.from(tree.feature),
    threshold,
    left: Int32Array.from(tree.left),
    right: Int32Array.from(tree.right),
    value,
  };
}
