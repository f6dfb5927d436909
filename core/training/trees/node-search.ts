/**
 * The parallel steps of tree growth, for a batch of nodes at once (a level of a depthwise tree):
 *
 * - partition: each node's rows are partitioned by its split, one node per task;
 * - search: each search builds a node's histogram (optionally turning its parent's into its
 *   sibling's, parent − node) and finds the best split of one or two nodes, a block of features per
 *   task.
 *
 * Each bin is summed over the same rows in the same order as on one thread, and the blocks' best
 * splits are combined in feature order with the one-thread tie rule (the first feature and bin
 * reaching the largest gain), so the grown tree does not depend on the number of threads.
 *
 * One job may hold the nodes of several trees grown together (a boosting round's class trees): each
 * request names its tree's row indices (and, for a search, its statistics); the job gives every
 * distinct tree a group (its row indices, partition scratch and statistics) that its tasks read.
 */
import type { BinnedMatrix } from './binning';
import { clearHistogram, subtractHistogram, type HistogramSource } from './histogram';
import { SplitSearch, statisticsFromDescription, type GrowthLimits, type NodeStatistics } from './node-statistics';
import { int32At, TASK_KINDS, taskRange, type TaskEnvironment } from './task-kinds';
import type { TreeThreadPool } from './thread-pool';
import type { TrainingMemory } from './training-memory';

/** Integer parameters of the jobs (an array takes two: byte offset and length in the pool's memory). */
const INTEGER = {
  codes: 0,
  binOffsets: 2,
  binCounts: 4,
  featureList: 8,
  results: 10,
  searchTable: 12,
  taskTable: 14,
  scanNumbers: 16,
  partitionTable: 18,
  rows: 22,
  channels: 23,
  /** The groups' records (GROUP), GROUP.size integers each. */
  groups: 32,
} as const;
/** One group's record (a tree of the job): its row indices, its partition scratch, its statistics' description. */
const GROUP = { rowIndices: 0, scratch: 2, statistics: 4, size: 16 } as const;
/** Number parameters: the limits, then each group's statistics' numbers (GROUP_NUMBERS each). */
const NUMBER = { minChildWeight: 0, minSamplesPerLeaf: 1, statistics: 8 } as const;
const GROUP_NUMBERS = 4;
/** Trees one job can hold. */
export const MAX_GROUPS = 32;

/** One search's record in the search table (integers). */
const SEARCH = {
  build: 0,
  histogramOffset: 1,
  histogramLength: 2,
  start: 3,
  end: 4,
  subtract: 5,
  subtractOffset: 6,
  subtractLength: 7,
  blockOffset: 8,
  blockCount: 9,
  blocks: 10,
  scanCount: 11,
  /** Per scan: histogram offset and length, features offset in the list, features count. */
  scans: 12,
  /** 1: a small node, searched on a sparse histogram (one task, see `searchSmallNode`). */
  small: 20,
  /** The group (tree) of the search. */
  group: 21,
  size: 22,
} as const;
const MAX_SCANS = 2;
/** One partition's record: start, end, code column, bin, group; the task writes the middle after them. */
const PARTITION_SIZE = 6;
/** A block of a search is worth a task from this much work (rows × features, or bins scanned). */
const MIN_TASK_WORK = 16 * 1024;

/** One node whose best split is searched (over `features[0…count)`, ascending, on its histogram). */
export interface ScanRequest {
  readonly histogram: Float64Array;
  readonly features: Int32Array;
  readonly count: number;
  /** The node's totals at `totals[offset…]`. */
  readonly totals: Float64Array;
  readonly offset: number;
  /** Reset to the node's minimum gain; receives the best split found. */
  readonly search: SplitSearch;
}

/**
 * A histogram search: optionally build (and subtract), then scan one or two nodes. A small search
 * (`small`) builds its one node's rows [build.start, build.end) into a thread's sparse scratch
 * histogram instead (build.histogram is not used) and scans only each feature's occupied bins.
 */
export interface SearchRequest {
  /** The statistics of the node's tree. */
  readonly statistics: NodeStatistics;
  /** The row indices of the node's tree (the build's rows are a segment of them). */
  readonly rowIndices: Int32Array;
  readonly small?: boolean;
  /** Build this histogram from rows [start, end) over the block features (after zeroing their bins). */
  readonly build?: { readonly histogram: Float64Array; readonly start: number; readonly end: number; readonly subtractFrom?: Float64Array };
  /** The features the search is split by (ascending); every scan's features are among them. */
  readonly blockFeatures: Int32Array;
  readonly blockFeatureCount: number;
  readonly scans: readonly ScanRequest[];
}

/** A node's rows to partition: rows with code[column + row] <= bin go first. */
export interface PartitionRequest {
  /** The row indices of the node's tree; its segment [start, end) is partitioned in place. */
  readonly rowIndices: Int32Array;
  readonly start: number;
  readonly end: number;
  readonly column: number;
  readonly bin: number;
}

/** Runs the batch steps of one grower on a pool. */
export class ParallelNodeSearch {
  private readonly binned: BinnedMatrix;
  private featureList: Int32Array;
  private results: Float64Array;
  private searchTable: Int32Array;
  private taskTable: Int32Array;
  private scanNumbers: Float64Array;
  private partitionTable: Int32Array;
  /** A partition scratch per group, as many rows as the matrix. */
  private readonly scratches: Int32Array[] = [];
  private readonly memory: TrainingMemory;

  /** @param binned its codes and bin layout are copied into the pool's memory unless they are there */
  constructor(
    private readonly pool: TreeThreadPool,
    binned: BinnedMatrix,
    private readonly channels: number,
  ) {
    const { codes, binning } = binned;
    this.memory = pool.memory;
    this.binned = {
      ...binned,
      codes: pool.share(codes),
      binning: { ...binning, binOffsets: pool.share(binning.binOffsets), binCounts: pool.share(binning.binCounts) },
    };
    this.featureList = pool.int32(0);
    this.results = pool.float64(0);
    this.searchTable = pool.int32(0);
    this.taskTable = pool.int32(0);
    this.scanNumbers = pool.float64(0);
    this.partitionTable = pool.int32(0);
  }

  /**
   * Partitions every request's rows (in its `rowIndices`, a node per task; the requests of one tree
   * must not overlap); returns where each one's right rows start.
   */
  partition(requests: readonly PartitionRequest[]): Int32Array {
    const table = (this.partitionTable = this.ensureInt32(this.partitionTable, requests.length * PARTITION_SIZE));
    const integers = this.writeCommon();
    const groups = new Groups(this.pool, integers);
    requests.forEach((request, index) => {
      const group = groups.of(request.rowIndices, undefined, (slot, groupIndex) => this.pool.locate(this.scratchOf(groupIndex), integers, slot + GROUP.scratch));
      table.set([request.start, request.end, request.column, request.bin, group, -1], index * PARTITION_SIZE);
    });
    this.pool.locate(table, integers, INTEGER.partitionTable);
    this.pool.run(TASK_KINDS.partitionRows, requests.length);
    return Int32Array.from(requests, (_, index) => table[index * PARTITION_SIZE + 5]);
  }

  /**
   * Runs every search on every thread. Each scan's `search` ends with the best split over its
   * features, exactly as `scanFeature` over them in order would leave it. Every request's statistics
   * must have the same channels as this search, and all share `limits`.
   */
  search(limits: GrowthLimits, requests: readonly SearchRequest[]): void {
    const pool = this.pool;
    const channels = this.channels;
    const scanStride = 1 + channels;
    let listLength = 0;
    for (const request of requests) {
      listLength += request.blockFeatureCount;
      for (const scan of request.scans) listLength += scan.count;
    }
    const list = (this.featureList = this.ensureInt32(this.featureList, listLength));
    const table = (this.searchTable = this.ensureInt32(this.searchTable, requests.length * SEARCH.size));
    const numbers = (this.scanNumbers = this.ensureFloat64(this.scanNumbers, requests.length * MAX_SCANS * scanStride));
    const blockCounts = requests.map((request) => this.blocksOf(request));
    const taskCount = blockCounts.reduce((sum, blocks) => sum + blocks, 0);
    const tasks = (this.taskTable = this.ensureInt32(this.taskTable, 2 * taskCount));
    const stride = 3 + channels;
    const results = (this.results = this.ensureFloat64(this.results, taskCount * MAX_SCANS * stride));
    const integers = this.writeCommon();
    const groups = new Groups(pool, integers);
    let listEnd = 0;
    let task = 0;
    requests.forEach((request, index) => {
      const base = index * SEARCH.size;
      table.fill(0, base, base + SEARCH.size);
      if (request.small === true) table[base + SEARCH.small] = 1;
      table[base + SEARCH.group] = groups.of(request.rowIndices, request.statistics, (slot, group) =>
        request.statistics.describe(integers, slot + GROUP.statistics, pool.numbers, NUMBER.statistics + group * GROUP_NUMBERS, this.memory),
      );
      if (request.build !== undefined) {
        table[base + SEARCH.build] = 1;
        table[base + SEARCH.histogramOffset] = this.memory.offsetOf(request.build.histogram);
        table[base + SEARCH.histogramLength] = request.build.histogram.length;
        table[base + SEARCH.start] = request.build.start;
        table[base + SEARCH.end] = request.build.end;
        if (request.build.subtractFrom !== undefined) {
          table[base + SEARCH.subtract] = 1;
          table[base + SEARCH.subtractOffset] = this.memory.offsetOf(request.build.subtractFrom);
          table[base + SEARCH.subtractLength] = request.build.subtractFrom.length;
        }
      }
      list.set(request.blockFeatures.subarray(0, request.blockFeatureCount), listEnd);
      table[base + SEARCH.blockOffset] = listEnd;
      table[base + SEARCH.blockCount] = request.blockFeatureCount;
      listEnd += request.blockFeatureCount;
      table[base + SEARCH.blocks] = blockCounts[index];
      table[base + SEARCH.scanCount] = request.scans.length;
      request.scans.forEach((scan, slot) => {
        const scanBase = base + SEARCH.scans + 4 * slot;
        table[scanBase] = this.memory.offsetOf(scan.histogram);
        table[scanBase + 1] = scan.histogram.length;
        table[scanBase + 2] = listEnd;
        table[scanBase + 3] = scan.count;
        list.set(scan.features.subarray(0, scan.count), listEnd);
        listEnd += scan.count;
        const numberBase = (index * MAX_SCANS + slot) * scanStride;
        numbers[numberBase] = scan.search.gain;
        for (let channel = 0; channel < channels; channel++) numbers[numberBase + 1 + channel] = scan.totals[scan.offset + channel];
      });
      for (let block = 0; block < blockCounts[index]; block++, task++) {
        tasks[2 * task] = index;
        tasks[2 * task + 1] = block;
      }
    });
    pool.locate(list, integers, INTEGER.featureList);
    pool.locate(table, integers, INTEGER.searchTable);
    pool.locate(tasks, integers, INTEGER.taskTable);
    pool.locate(numbers, integers, INTEGER.scanNumbers);
    pool.locate(results, integers, INTEGER.results);
    integers[INTEGER.channels] = channels;
    pool.numbers[NUMBER.minChildWeight] = limits.minChildWeight;
    pool.numbers[NUMBER.minSamplesPerLeaf] = limits.minSamplesPerLeaf;
    pool.run(TASK_KINDS.nodeSearch, taskCount);
    // combine each search's blocks in feature order: a later block wins only with a strictly larger gain
    task = 0;
    requests.forEach((request, index) => {
      for (let block = 0; block < blockCounts[index]; block++, task++) {
        request.scans.forEach((scan, slot) => {
          const search = scan.search;
          const at = (task * MAX_SCANS + slot) * stride;
          if (results[at + 1] < 0 || !(results[at] > search.gain)) return;
          search.gain = results[at];
          search.feature = results[at + 1];
          search.bin = results[at + 2];
          for (let channel = 0; channel < channels; channel++) search.left[channel] = results[at + 3 + channel];
        });
      }
    });
  }

  /** Blocks of a search: a few per thread when it has the work, at least 4 features each. */
  private blocksOf(request: SearchRequest): number {
    if (request.small === true) return 1;
    const rows = request.build === undefined ? 0 : request.build.end - request.build.start;
    let work = rows * request.blockFeatureCount;
    for (const scan of request.scans) work += 64 * scan.count;
    return Math.max(1, Math.min(2 * this.pool.threads, Math.floor(request.blockFeatureCount / 4), Math.floor(work / MIN_TASK_WORK)));
  }

  private writeCommon(): Int32Array {
    const { pool } = this;
    const integers = pool.integers;
    const { codes, binning, rows } = this.binned;
    pool.locate(codes, integers, INTEGER.codes);
    pool.locate(binning.binOffsets, integers, INTEGER.binOffsets);
    pool.locate(binning.binCounts, integers, INTEGER.binCounts);
    integers[INTEGER.rows] = rows;
    return integers;
  }

  /** The partition scratch of a group (kept from job to job). */
  private scratchOf(group: number): Int32Array {
    return (this.scratches[group] ??= this.pool.int32(this.binned.rows));
  }

  private ensureInt32(array: Int32Array, length: number): Int32Array {
    return array.length >= length ? array : this.pool.int32(Math.max(length, 2 * array.length));
  }

  private ensureFloat64(array: Float64Array, length: number): Float64Array {
    return array.length >= length ? array : this.pool.float64(Math.max(length, 2 * array.length));
  }
}

/**
 * The groups of one job: a group per distinct tree (row indices and statistics), numbered in order
 * of first use, each written once into the job's parameters.
 */
class Groups {
  private readonly rowIndices: Int32Array[] = [];
  private readonly statistics: (NodeStatistics | undefined)[] = [];

  constructor(
    private readonly pool: TreeThreadPool,
    private readonly integers: Int32Array,
  ) {}

  /** The group of a tree; a new one is written at its slot, then `describe(slot, group)` adds the rest of its record. */
  of(rowIndices: Int32Array, statistics: NodeStatistics | undefined, describe: (slot: number, group: number) => void): number {
    for (let group = 0; group < this.rowIndices.length; group++) {
      if (this.rowIndices[group] === rowIndices && this.statistics[group] === statistics) return group;
    }
    const group = this.rowIndices.length;
    if (group >= MAX_GROUPS) throw new RangeError(`a job holds the nodes of at most ${MAX_GROUPS} trees`);
    this.rowIndices.push(rowIndices);
    this.statistics.push(statistics);
    const slot = INTEGER.groups + group * GROUP.size;
    this.pool.locate(rowIndices, this.integers, slot + GROUP.rowIndices);
    describe(slot, group);
    return group;
  }
}

/** One node of a partition job. */
export function runPartitionTask(environment: TaskEnvironment, task: number): void {
  const { integers, memory } = environment;
  const table = int32At(environment, INTEGER.partitionTable);
  const base = task * PARTITION_SIZE;
  const [start, end, column, bin] = [table[base], table[base + 1], table[base + 2], table[base + 3]];
  const group = INTEGER.groups + table[base + 4] * GROUP.size;
  table[base + 5] = memory.kernels.partitionAt(
    integers[group + GROUP.rowIndices],
    start,
    end,
    integers[INTEGER.codes] + column,
    bin,
    // the node's own stretch of its tree's scratch rows
    integers[group + GROUP.scratch] + 4 * start,
  );
}

/** One block of one search of a search job, on whichever thread claims it. */
export function runNodeSearchTask(environment: TaskEnvironment, task: number): void {
  const { integers, memory } = environment;
  const tasks = int32At(environment, INTEGER.taskTable);
  const table = int32At(environment, INTEGER.searchTable);
  const list = int32At(environment, INTEGER.featureList);
  const request = tasks[2 * task];
  const base = request * SEARCH.size;
  const groupIndex = table[base + SEARCH.group];
  const group = INTEGER.groups + groupIndex * GROUP.size;
  const statistics = statisticsFromDescription(integers, group + GROUP.statistics, environment.numbers, NUMBER.statistics + groupIndex * GROUP_NUMBERS, memory);
  const channels = statistics.channels;
  const rowIndices = int32At(environment, group + GROUP.rowIndices);
  const codes = memory.view(Uint8Array, integers[INTEGER.codes], integers[INTEGER.codes + 1]);
  const binOffsets = int32At(environment, INTEGER.binOffsets);
  const binCounts = int32At(environment, INTEGER.binCounts);
  if (table[base + SEARCH.small] !== 0) {
    searchSmallNode(environment, statistics, rowIndices, table, base, list, codes, binOffsets, task);
    return;
  }
  const [first, last] = taskRange(tasks[2 * task + 1], table[base + SEARCH.blocks], table[base + SEARCH.blockCount]);
  const blockOffset = table[base + SEARCH.blockOffset];
  const features = list.subarray(blockOffset + first, blockOffset + last);
  const count = last - first;
  if (table[base + SEARCH.build] !== 0 && count > 0) {
    const histogram = memory.view(Float64Array, table[base + SEARCH.histogramOffset], table[base + SEARCH.histogramLength]);
    clearHistogram(histogram, binOffsets, features, count, channels);
    const rows = integers[INTEGER.rows];
    statistics.build({ codes, rows, binOffsets, rowIndices, start: table[base + SEARCH.start], end: table[base + SEARCH.end], features, featureCount: count }, histogram);
    if (table[base + SEARCH.subtract] !== 0) {
      const parent = memory.view(Float64Array, table[base + SEARCH.subtractOffset], table[base + SEARCH.subtractLength]);
      subtractHistogram(parent, histogram, binOffsets, features, count, channels);
    }
  }
  const numbers = memory.view(Float64Array, integers[INTEGER.scanNumbers], integers[INTEGER.scanNumbers + 1]);
  const results = memory.view(Float64Array, integers[INTEGER.results], integers[INTEGER.results + 1]);
  const limits = limitsOf(environment);
  const search = threadSearch(environment, channels);
  const stride = 3 + channels;
  const scanStride = 1 + channels;
  const scanCount = table[base + SEARCH.scanCount];
  for (let slot = 0; slot < scanCount; slot++) {
    const scanBase = base + SEARCH.scans + 4 * slot;
    const numberBase = (request * MAX_SCANS + slot) * scanStride;
    search.reset(numbers[numberBase]);
    if (count > 0) {
      const histogram = memory.view(Float64Array, table[scanBase], table[scanBase + 1]);
      const scanOffset = table[scanBase + 2];
      const scanEnd = scanOffset + table[scanBase + 3];
      const lowest = features[0];
      const highest = features[count - 1];
      for (let next = scanOffset; next < scanEnd; next++) {
        const feature = list[next];
        if (feature < lowest) continue;
        if (feature > highest) break;
        statistics.scanFeature(histogram, feature, binOffsets[feature], 0, binCounts[feature] - 1, numbers, numberBase + 1, limits, search);
      }
    }
    writeResult(results, (task * MAX_SCANS + slot) * stride, search);
  }
}

/**
 * A small node's search (the grower's `evaluateSmall`): its rows go into this thread's histogram,
 * kept all-zero between uses; only each feature's occupied code range is scanned, then zeroed again.
 */
function searchSmallNode(
  environment: TaskEnvironment,
  statistics: NodeStatistics,
  rowIndices: Int32Array,
  table: Int32Array,
  base: number,
  list: Int32Array,
  codes: Uint8Array,
  binOffsets: Int32Array,
  task: number,
): void {
  const { integers, memory } = environment;
  const channels = statistics.channels;
  const rows = integers[INTEGER.rows];
  const [start, end] = [table[base + SEARCH.start], table[base + SEARCH.end]];
  const scanBase = base + SEARCH.scans;
  const features = list.subarray(table[scanBase + 2], table[scanBase + 2] + table[scanBase + 3]);
  const count = features.length;
  const key = `small:${channels}:${binOffsets[binOffsets.length - 1]}`;
  let scratch = environment.local.get(key) as SparseScratch | undefined;
  if (scratch === undefined) {
    const columns = binOffsets.length - 1;
    scratch = { histogram: new Float64Array(binOffsets[columns] * channels), lowest: new Int32Array(columns), highest: new Int32Array(columns) };
    environment.local.set(key, scratch);
  }
  const numbers = memory.view(Float64Array, integers[INTEGER.scanNumbers], integers[INTEGER.scanNumbers + 1]);
  const request = int32At(environment, INTEGER.taskTable)[2 * task];
  const numberBase = request * MAX_SCANS * (1 + channels);
  const search = threadSearch(environment, channels);
  search.reset(numbers[numberBase]);
  const source = { codes, rows, binOffsets, rowIndices, start, end, features, featureCount: count };
  searchSparse(statistics, source, scratch, numbers, numberBase + 1, limitsOf(environment), search);
  const results = memory.view(Float64Array, integers[INTEGER.results], integers[INTEGER.results + 1]);
  writeResult(results, task * MAX_SCANS * (3 + channels), search);
}

/** A small node's search buffers: a histogram all zero between uses, each feature's lowest and highest occupied code. */
export interface SparseScratch {
  readonly histogram: Float64Array;
  readonly lowest: Int32Array;
  readonly highest: Int32Array;
}

/**
 * A node of few rows: clearing and scanning every bin would cost more than its rows, so its rows go
 * into `scratch.histogram` (all zero between uses), only each feature's occupied code range is
 * scanned, and only that range is zeroed again afterwards. `search` starts reset to the node's
 * minimum gain and ends with its best split (the node's totals are at `totals[offset…]`).
 */
export function searchSparse(
  statistics: NodeStatistics,
  source: HistogramSource,
  scratch: SparseScratch,
  totals: Float64Array,
  offset: number,
  limits: GrowthLimits,
  search: SplitSearch,
): void {
  const { codes, rows, binOffsets, rowIndices, start, end, features, featureCount } = source;
  const { histogram, lowest, highest } = scratch;
  const channels = statistics.channels;
  for (let next = 0; next < featureCount; next++) {
    const feature = features[next];
    const column = feature * rows;
    let low = 255;
    let high = 0;
    for (let index = start; index < end; index++) {
      const code = codes[column + rowIndices[index]];
      low = Math.min(low, code);
      high = Math.max(high, code);
    }
    lowest[feature] = low;
    highest[feature] = high;
  }
  statistics.build(source, histogram);
  for (let next = 0; next < featureCount; next++) {
    const feature = features[next];
    statistics.scanFeature(histogram, feature, binOffsets[feature], lowest[feature], highest[feature], totals, offset, limits, search);
  }
  for (let next = 0; next < featureCount; next++) {
    const feature = features[next];
    histogram.fill(0, (binOffsets[feature] + lowest[feature]) * channels, (binOffsets[feature] + highest[feature] + 1) * channels);
  }
}

/** The limits a job's scans apply (the minimums of a child). */
function limitsOf(environment: TaskEnvironment): GrowthLimits {
  return {
    maxDepth: Number.POSITIVE_INFINITY,
    maxLeaves: Number.POSITIVE_INFINITY,
    minChildWeight: environment.numbers[NUMBER.minChildWeight],
    minSamplesPerLeaf: environment.numbers[NUMBER.minSamplesPerLeaf],
    minSplitGain: 0,
    growPolicy: 'depthwise',
  };
}

/** This thread's split search of `channels` channels. */
function threadSearch(environment: TaskEnvironment, channels: number): SplitSearch {
  let search = environment.local.get(`search:${channels}`) as SplitSearch | undefined;
  if (search === undefined) environment.local.set(`search:${channels}`, (search = new SplitSearch(channels)));
  return search;
}

function writeResult(results: Float64Array, at: number, search: SplitSearch): void {
  results[at] = search.gain;
  results[at + 1] = search.feature;
  results[at + 2] = search.bin;
  results.set(search.left, at + 3);
}
