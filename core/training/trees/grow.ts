/**
 * The tree-growing engine shared by the decision tree, the random forest and gradient boosting.
 *
 * A node owns a contiguous segment of `rowIndices` (kept in ascending row order, so column reads stay
 * sequential); splitting it partitions the segment in place. When a node is created its best split
 * is searched on its histogram and, if one gains enough, the node becomes a candidate. Candidates are
 * expanded level by level (`depthwise`) or best gain first (`lossguide`) until the leaf budget is spent.
 *
 * Several trees can grow together, each by its own grower (`TreeGrower.growTogether`, a boosting
 * round's class trees): their batches are partitioned in one parallel job and their searches run in
 * another, so the threads get every tree's work of a level at once; each tree comes out as it would
 * alone, since a grower's steps happen in its own order and a node's search depends on its tree only.
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
import { MAX_GROUPS, ParallelNodeSearch, searchSparse, type PartitionRequest, type SearchRequest } from './node-search';
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
/** A batch's searches go to the threads from this much work (rows × features built, plus features scanned × 64). */
const PARALLEL_MIN_WORK = 32 * 1024;
/** A batch's partitions go to the threads from this many rows. */
const PARALLEL_MIN_PARTITION_ROWS = 16 * 1024;
/** Candidates expanded together at most (their histograms are alive at once). */
const MAX_BATCH_NODES = 64;

/** A node whose split is searched, on a histogram, over some of the tree's features. */
interface NodeScan {
  readonly node: number;
  readonly histogram: Float64Array;
  readonly features: Int32Array;
  readonly count: number;
}

/** A search planned while a batch of candidates is split, run with the batch's others. */
interface PlannedSearch {
  /** A node of few rows, searched on the sparse scratch histogram (`evaluateSmall`) over scans[0]'s features. */
  readonly small: boolean;
  /** Whose rows are built into `histogram` over the build features; −1: nothing is built. */
  readonly buildNode: number;
  readonly histogram?: Float64Array;
  /** After building, `subtractFrom −= histogram` (the parent's histogram becomes the sibling's). */
  readonly subtractFrom?: Float64Array;
  readonly buildFeatures: Int32Array;
  readonly buildCount: number;
  readonly scans: readonly NodeScan[];
  /** Scanned histograms stay with their nodes when worth it (else they go back to the pool). */
  readonly retain: boolean;
  /** Buffers given back once the search is done. */
  readonly release: readonly Float64Array[];
}

/** Grows trees over one binned matrix, reusing its buffers from tree to tree. */
export class TreeGrower {
  /**
   * Grows one tree per grower (`requests[i]` by `growers[i]`), all at once: a batch of every tree is
   * partitioned in one job and their searches run in one job. Each tree is the tree its grower would
   * grow alone. The growers must be distinct, over the same threads, with the same channels; the
   * requests must have distinct row indices and, with several trees, the same child minimums.
   */
  static growTogether(growers: readonly TreeGrower[], requests: readonly GrowRequest[]): GrownTree[] {
    TreeGrower.checkTogether(growers, requests);
    growers.forEach((grower, index) => grower.begin(requests[index]));
    TreeGrower.runSearchesTogether(growers);
    let growing = growers.filter((grower) => grower.hasCandidates());
    while (growing.length > 0) {
      const batches = growing.map((grower) => grower.nextBatch());
      const middles = TreeGrower.partitionTogether(growing, batches);
      growing.forEach((grower, index) => batches[index].forEach((node, position) => grower.split(node, middles[index][position])));
      TreeGrower.runSearchesTogether(growing);
      growing = growing.filter((grower) => grower.hasCandidates());
    }
    return growers.map((grower) => grower.finish());
  }

  /**
   * Runs the searches every grower planned: on the threads in one job when there are threads and,
   * summed over the trees, enough work (the result is the same either way), else one by one here;
   * then each grower applies its results in its plan order.
   */
  private static runSearchesTogether(growers: readonly TreeGrower[]): void {
    const planned = growers.map((grower) => {
      const plan = grower.planned;
      grower.planned = [];
      return plan;
    });
    const parallel = growers[0].parallel;
    let work = 0;
    growers.forEach((grower, index) => (work += grower.workOf(planned[index])));
    if (parallel === undefined || work < PARALLEL_MIN_WORK) {
      growers.forEach((grower, index) => grower.applySearches(planned[index], undefined));
      return;
    }
    const prepared = growers.map((grower, index) => grower.searchRequests(planned[index]));
    parallel.search(
      growers[0].request.limits,
      prepared.flatMap((each) => each.requests),
    );
    growers.forEach((grower, index) => grower.applySearches(planned[index], prepared[index].searches));
  }

  /**
   * Partitions every grower's batch of candidates: on the threads in one job when there are threads,
   * several nodes and enough rows, else one by one here; the middles, per grower and node.
   */
  private static partitionTogether(growers: readonly TreeGrower[], batches: readonly (readonly number[])[]): ArrayLike<number>[] {
    const requests = growers.map((grower, index) => grower.partitionRequests(batches[index]));
    const parallel = growers[0].parallel;
    let nodes = 0;
    let rows = 0;
    for (const list of requests) {
      nodes += list.length;
      for (const request of list) rows += request.end - request.start;
    }
    if (parallel === undefined || nodes < 2 || rows < PARALLEL_MIN_PARTITION_ROWS) {
      return growers.map((grower, index) => requests[index].map((request) => grower.partition(request.rowIndices, request.start, request.end, request.column, request.bin)));
    }
    const middles = parallel.partition(requests.flat());
    const result: ArrayLike<number>[] = [];
    let next = 0;
    for (const list of requests) {
      result.push(middles.subarray(next, next + list.length));
      next += list.length;
    }
    return result;
  }

  /** What trees grown together must share (see `TreeGrower.growTogether`). */
  private static checkTogether(growers: readonly TreeGrower[], requests: readonly GrowRequest[]): void {
    if (growers.length === 0 || growers.length !== requests.length) {
      throw new InvalidOptionsError('trees grown together', [`one request per grower (got ${growers.length} growers, ${requests.length} requests)`]);
    }
    const problems: string[] = [];
    if (new Set(growers).size !== growers.length) problems.push('each tree needs its own grower');
    if (new Set(requests.map((request) => request.rowIndices)).size !== requests.length) problems.push('each tree needs its own row indices');
    if (growers.length > MAX_GROUPS) problems.push(`at most ${MAX_GROUPS} trees grow together (got ${growers.length})`);
    const [first] = growers;
    const [firstRequest] = requests;
    growers.forEach((grower, index) => {
      if (grower.threads !== first.threads || grower.channels !== first.channels || grower.binned !== first.binned) {
        problems.push(`grower ${index} differs from grower 0 in its threads, channels or matrix`);
      }
      const { limits } = requests[index];
      if (limits.minChildWeight !== firstRequest.limits.minChildWeight || limits.minSamplesPerLeaf !== firstRequest.limits.minSamplesPerLeaf) {
        problems.push(`request ${index} has other child minimums than request 0`);
      }
    });
    if (problems.length > 0) throw new InvalidOptionsError('trees grown together', problems);
  }

  private readonly binning: FeatureBinning;
  private readonly pool: HistogramPool;
  private readonly maxRetained: number;
  private readonly search: SplitSearch;
  private readonly parallel: ParallelNodeSearch | undefined;
  private readonly partitionScratch: Int32Array;
  private readonly kernels: HistogramKernels | undefined;
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
  /** The small-node buffer: all zeros between uses. */
  private zeroedHistogram: Float64Array | undefined;
  private readonly lowestCode: Int32Array;
  private readonly highestCode: Int32Array;
  // the request being grown
  private request!: GrowRequest;
  private subtraction = false;
  private queue!: CandidateQueue;
  private planned: PlannedSearch[] = [];
  private leaves = 0;
  private readonly threads: TreeThreadPool | undefined;

  /**
   * @param memory histograms live here (so the WebAssembly kernels can build them) @default plain arrays
   * @param threads partitions and searches batches of nodes on these when they are more than one
   *   (then `memory` must be theirs, and the row indices and statistics of every request must live in
   *   it); the trees are the same either way
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
    this.threads = threads;
    this.parallel = threads !== undefined && threads.threads > 1 ? new ParallelNodeSearch(threads, binned, channels) : undefined;
    this.pool = new HistogramPool(histogramLength, memory === undefined ? undefined : (length) => memory.float64(length));
    this.maxRetained = Math.max(8, Math.floor(RETAINED_HISTOGRAM_BYTES / (8 * this.pool.length)));
    this.search = new SplitSearch(channels);
    this.partitionScratch = memory?.int32(binned.rows) ?? new Int32Array(binned.rows);
    this.kernels = memory?.kernels;
    this.featurePool = new Int32Array(binned.columns);
    this.lowestCode = new Int32Array(binned.columns);
    this.highestCode = new Int32Array(binned.columns);
    this.ensureCapacity(64);
  }

  grow(request: GrowRequest): GrownTree {
    return TreeGrower.growTogether([this], [request])[0];
  }

  /** Starts a tree: its root, and the root's search planned. */
  private begin(request: GrowRequest): void {
    if (request.statistics.channels !== this.channels) {
      throw new InvalidOptionsError('tree growth request', [`statistics have ${request.statistics.channels} channels, the grower ${this.channels}`]);
    }
    this.request = request;
    const regime = request.histogramRegime ?? 'auto';
    this.subtraction = regime === 'auto' ? request.nodeFeatureCount * 2 > request.treeFeatures.length : regime === 'subtraction';
    this.queue = request.limits.growPolicy === 'lossguide' ? new BestGainQueue() : new LevelQueue((node) => this.depth[node]);
    this.nodeCount = 0;
    this.planned = [];
    this.leaves = 1;
    const root = this.addNode(0, 0, request.rowCount);
    const prebuilt = request.rootHistogram;
    if (prebuilt !== undefined && request.treeFeatures.length > 0) this.sumFeatureBins(prebuilt, request.treeFeatures[0], root);
    else request.statistics.sumRows(request.rowIndices, 0, request.rowCount, this.totals, root * this.channels);
    if (!this.isSplittable(root) || !this.subtraction) {
      if (prebuilt !== undefined) this.pool.release(prebuilt);
      if (this.isSplittable(root)) this.planDirect(root);
    } else if (prebuilt !== undefined) {
      this.planScan(root, prebuilt);
    } else {
      this.planBuilt(root);
    }
  }

  /** Whether the tree has candidates left to expand within its leaf budget. */
  private hasCandidates(): boolean {
    return this.queue.size > 0 && this.leaves < this.request.limits.maxLeaves;
  }

  /** The next candidates to split together (they are counted as split). */
  private nextBatch(): number[] {
    const batch = this.queue.popBatch(Math.min(this.request.limits.maxLeaves - this.leaves, MAX_BATCH_NODES));
    this.leaves += batch.length;
    return batch;
  }

  /** The grown tree (its histograms given back). */
  private finish(): GrownTree {
    const request = this.request;
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

  /**
   * A node's totals as the sums of one feature's bins of its histogram (every row is in one bin of
   * each feature): a few hundred additions instead of one per row, for a root whose histogram was
   * built beforehand. Deterministic like the histogram itself.
   */
  private sumFeatureBins(histogram: Float64Array, feature: number, node: number): void {
    const channels = this.channels;
    const offset = node * channels;
    const first = this.binning.binOffsets[feature];
    const end = first + this.binning.binCounts[feature];
    for (let channel = 0; channel < channels; channel++) {
      let sum = 0;
      for (let bin = first; bin < end; bin++) sum += histogram[bin * channels + channel];
      this.totals[offset + channel] = sum;
    }
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

  /** The rows of a batch of candidates, split by their candidate splits (for `partitionTogether`). */
  private partitionRequests(nodes: readonly number[]): PartitionRequest[] {
    const { rowIndices } = this.request;
    const rows = this.binned.rows;
    return nodes.map((node) => ({ rowIndices, start: this.rowStart[node], end: this.rowEnd[node], column: this.candidateFeature[node] * rows, bin: this.candidateBin[node] }));
  }

  /** Makes a partitioned candidate an inner node with two children, and plans their searches. */
  private split(node: number, middle: number): void {
    const channels = this.channels;
    const start = this.rowStart[node];
    const end = this.rowEnd[node];
    const leftChild = this.addNode(this.depth[node] + 1, start, middle);
    const rightChild = this.addNode(this.depth[node] + 1, middle, end);
    this.feature[node] = this.candidateFeature[node];
    this.bin[node] = this.candidateBin[node];
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
      if (leftSplittable) this.planDirect(leftChild);
      if (rightSplittable) this.planDirect(rightChild);
      return;
    }
    if (parentHistogram === null) {
      if (leftSplittable) this.planFresh(leftChild);
      if (rightSplittable) this.planFresh(rightChild);
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
      this.planFresh(smallIsLeft ? leftChild : rightChild);
      return;
    }
    // build the smaller child, turn the parent's histogram into the larger one's, search both
    const smallHistogram = this.pool.acquire();
    const leftHistogram = smallIsLeft ? smallHistogram : parentHistogram;
    const rightHistogram = smallIsLeft ? parentHistogram : smallHistogram;
    const scans: NodeScan[] = [];
    const release: Float64Array[] = [];
    if (leftSplittable) scans.push(this.nodeScan(leftChild, leftHistogram));
    else release.push(leftHistogram);
    if (rightSplittable) scans.push(this.nodeScan(rightChild, rightHistogram));
    else release.push(rightHistogram);
    const { treeFeatures } = this.request;
    this.planned.push({
      small: false,
      buildNode: smallIsLeft ? leftChild : rightChild,
      histogram: smallHistogram,
      subtractFrom: parentHistogram,
      buildFeatures: treeFeatures,
      buildCount: treeFeatures.length,
      scans,
      retain: true,
      release,
    });
  }

  /** Subtraction regime without a parent histogram: the node builds its own (a small node the cheap way). */
  private planFresh(node: number): void {
    if (this.rowEnd[node] - this.rowStart[node] > SMALL_NODE_ROWS) this.planBuilt(node);
    else this.planSmall(node);
  }

  /** Subtraction regime: a pooled histogram of the node over all the tree's features, searched. */
  private planBuilt(node: number): void {
    const { treeFeatures } = this.request;
    const histogram = this.pool.acquire();
    const scan = this.nodeScan(node, histogram);
    this.planned.push({ small: false, buildNode: node, histogram, buildFeatures: treeFeatures, buildCount: treeFeatures.length, scans: [scan], retain: true, release: [] });
  }

  /** Subtraction regime: the node's full histogram exists; only its split is searched. */
  private planScan(node: number, histogram: Float64Array): void {
    const scan = this.nodeScan(node, histogram);
    this.planned.push({ small: false, buildNode: -1, buildFeatures: scan.features, buildCount: scan.count, scans: [scan], retain: true, release: [] });
  }

  /** Direct regime: a scratch histogram of the node's sampled features, searched, then given back. */
  private planDirect(node: number): void {
    if (this.rowEnd[node] - this.rowStart[node] <= SMALL_NODE_ROWS) {
      this.planSmall(node);
      return;
    }
    const histogram = this.pool.acquire();
    const scan = this.nodeScan(node, histogram);
    this.planned.push({ small: false, buildNode: node, histogram, buildFeatures: scan.features, buildCount: scan.count, scans: [scan], retain: false, release: [histogram] });
  }

  /** A node of few rows: searched on the sparse scratch histogram when its turn comes. */
  private planSmall(node: number): void {
    const scan = this.nodeScan(node, (this.zeroedHistogram ??= this.pool.allocate()));
    this.planned.push({ small: true, buildNode: -1, buildFeatures: scan.features, buildCount: scan.count, scans: [scan], retain: false, release: [] });
  }

  /** A node's search on a histogram, over all the tree's features or a fresh sample of them. */
  private nodeScan(node: number, histogram: Float64Array): NodeScan {
    const { treeFeatures, nodeFeatureCount } = this.request;
    const sampled = nodeFeatureCount < treeFeatures.length;
    const features = sampled ? this.sampleNodeFeatures(new Int32Array(nodeFeatureCount)) : treeFeatures;
    return { node, histogram, features, count: Math.min(nodeFeatureCount, treeFeatures.length) };
  }

  /** Work of planned searches: rows × features built, plus features scanned × 64. */
  private workOf(planned: readonly PlannedSearch[]): number {
    let work = 0;
    for (const search of planned) {
      if (search.small) {
        const node = search.scans[0].node;
        work += (this.rowEnd[node] - this.rowStart[node]) * search.scans[0].count;
        continue;
      }
      if (search.buildNode >= 0) work += (this.rowEnd[search.buildNode] - this.rowStart[search.buildNode]) * search.buildCount;
      for (const scan of search.scans) work += 64 * scan.count;
    }
    return work;
  }

  /** The planned searches as requests to the threads, with the split searches their results go to. */
  private searchRequests(planned: readonly PlannedSearch[]): { readonly requests: SearchRequest[]; readonly searches: SplitSearch[][] } {
    const { statistics, limits, rowIndices } = this.request;
    const channels = this.channels;
    const searches = planned.map((search) =>
      search.scans.map((scan) => {
        const result = new SplitSearch(channels);
        result.reset(statistics.minimumGain(this.totals, scan.node * channels, limits));
        return result;
      }),
    );
    const requests = planned.map((search, index): SearchRequest => {
      const smallNode = search.scans[0].node;
      return {
        statistics,
        rowIndices,
        small: search.small,
        build: search.small
          ? { histogram: search.scans[0].histogram, start: this.rowStart[smallNode], end: this.rowEnd[smallNode] }
          : search.buildNode < 0 || search.histogram === undefined
            ? undefined
            : { histogram: search.histogram, start: this.rowStart[search.buildNode], end: this.rowEnd[search.buildNode], subtractFrom: search.subtractFrom },
        blockFeatures: search.buildFeatures,
        blockFeatureCount: search.buildCount,
        scans: search.scans.map((scan, slot) => ({ ...scan, totals: this.totals, offset: scan.node * channels, search: searches[index][slot] })),
      };
    });
    return { requests, searches };
  }

  /**
   * In plan order: runs each search here unless the threads did (`searches` holds their results),
   * then applies it (candidates join the queue, histograms are kept or given back).
   */
  private applySearches(planned: readonly PlannedSearch[], searches: readonly (readonly SplitSearch[])[] | undefined): void {
    const { statistics } = this.request;
    const channels = this.channels;
    planned.forEach((search, index) => {
      if (search.small && searches === undefined) {
        this.evaluateSmall(search.scans[0].node, search.scans[0].features, search.scans[0].count);
        return;
      }
      if (searches === undefined && search.buildNode >= 0 && search.histogram !== undefined) {
        clearHistogram(search.histogram, this.binning.binOffsets, search.buildFeatures, search.buildCount, channels);
        statistics.build(this.source(search.buildNode, search.buildFeatures, search.buildCount), search.histogram);
        if (search.subtractFrom !== undefined) subtractHistogram(search.subtractFrom, search.histogram, this.binning.binOffsets, search.buildFeatures, search.buildCount, channels);
      }
      search.scans.forEach((scan, slot) => {
        const found =
          searches === undefined ? this.searchSplit(scan.node, scan.histogram, scan.features, scan.count) : this.acceptSplit(scan.node, searches[index][slot]);
        if (search.retain) this.keepOrRelease(scan.node, scan.histogram, found);
      });
      for (const histogram of search.release) this.pool.release(histogram);
    });
  }

  /** A searched node keeps its histogram (for its children) when it is a candidate worth it and memory allows. */
  private keepOrRelease(node: number, histogram: Float64Array, isCandidate: boolean): void {
    const rows = this.rowEnd[node] - this.rowStart[node];
    if (isCandidate && rows >= RETAIN_MIN_ROWS && this.pool.inUse <= this.maxRetained) this.histograms[node] = histogram;
    else this.pool.release(histogram);
  }

  /** A node of few rows, searched on the sparse scratch histogram (`searchSparse`). */
  private evaluateSmall(node: number, features: Int32Array, count: number): void {
    const { statistics, limits } = this.request;
    const offset = node * this.channels;
    const search = this.search;
    search.reset(statistics.minimumGain(this.totals, offset, limits));
    const scratch = { histogram: (this.zeroedHistogram ??= this.pool.allocate()), lowest: this.lowestCode, highest: this.highestCode };
    searchSparse(statistics, this.source(node, features, count), scratch, this.totals, offset, limits, search);
    this.acceptSplit(node, search);
  }

  private searchSplit(node: number, histogram: Float64Array, features: Int32Array, count: number): boolean {
    const { statistics, limits } = this.request;
    const { binOffsets, binCounts } = this.binning;
    const search = this.search;
    const offset = node * this.channels;
    search.reset(statistics.minimumGain(this.totals, offset, limits));
    for (let next = 0; next < count; next++) {
      const feature = features[next];
      statistics.scanFeature(histogram, feature, binOffsets[feature], 0, binCounts[feature] - 1, this.totals, offset, limits, search);
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
  /** The next candidates to expand together, at most `limit`. */
  popBatch(limit: number): number[];
}

/** Depthwise: candidates in creation order, which is level order; a batch is (part of) one level. */
class LevelQueue implements CandidateQueue {
  private readonly nodes: number[] = [];
  private head = 0;

  constructor(private readonly depthOf: (node: number) => number) {}

  get size(): number {
    return this.nodes.length - this.head;
  }

  push(node: number): void {
    this.nodes.push(node);
  }

  popBatch(limit: number): number[] {
    const batch = [this.nodes[this.head++]];
    const depth = this.depthOf(batch[0]);
    while (batch.length < limit && this.head < this.nodes.length && this.depthOf(this.nodes[this.head]) === depth) batch.push(this.nodes[this.head++]);
    return batch;
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

  /** Always one: the next best candidate depends on the children of this one. */
  popBatch(): number[] {
    return [this.pop()];
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
