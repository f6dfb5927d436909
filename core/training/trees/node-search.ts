/**
 * The parallel step of tree growth: build a node's histogram, optionally turn its parent's into its
 * sibling's (parent − node), and find the best split of one or two nodes, a block of features per
 * task. Each bin is summed over the same rows in the same order as on one thread, and the blocks'
 * best splits are combined in feature order with the one-thread tie rule (the first feature and bin
 * reaching the largest gain), so the grown tree does not depend on the number of threads.
 */
import type { BinnedMatrix } from './binning';
import { clearHistogram, subtractHistogram } from './histogram';
import { SplitSearch, statisticsFromDescription, type GrowthLimits, type NodeStatistics } from './node-statistics';
import { float64At, int32At, TASK_KINDS, taskRange, uint8At, type TaskEnvironment } from './task-kinds';
import type { TreeThreadPool } from './thread-pool';

/** Integer parameters of a node search job (an array takes two: its byte offset and length in the pool's memory). */
const INTEGER = {
  codes: 0,
  binOffsets: 2,
  binCounts: 4,
  rowIndices: 6,
  featureList: 8,
  results: 10,
  rows: 12,
  blocks: 13,
  blockOffset: 14,
  blockCount: 15,
  build: 16,
  histogram: 17,
  start: 19,
  end: 20,
  subtract: 21,
  subtractFrom: 22,
  scanCount: 24,
  /** Per scan: its histogram (2), features offset in the list, features count. */
  scans: 32,
  statistics: 48,
} as const;
/** Number parameters: the limits, then per scan the minimum gain and the node's totals. */
const NUMBER = {
  minChildWeight: 0,
  minSamplesPerLeaf: 1,
  scans: 4,
  statistics: 64,
} as const;
const MAX_SCANS = 2;
const SCAN_NUMBERS = 24;
/** The most statistics channels a parallel search handles (a node's totals travel in the job's numbers). */
export const MAX_PARALLEL_CHANNELS = SCAN_NUMBERS - 1;
/** The most blocks a job splits its features into. */
const MAX_BLOCKS = 64;

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

/** A histogram to build over a row segment (after zeroing its bins of the block features). */
export interface BuildRequest {
  readonly histogram: Float64Array;
  readonly start: number;
  readonly end: number;
  /** Afterwards `subtractFrom −= histogram` over the block features. */
  readonly subtractFrom?: Float64Array;
}

/** Runs node searches of one grower on a pool. */
export class ParallelNodeSearch {
  private readonly featureList: Int32Array;
  private readonly results: Float64Array;
  private readonly stride: number;
  private readonly binned: BinnedMatrix;

  /** @param binned its codes and bin layout are copied into the pool's memory unless they are there */
  constructor(
    private readonly pool: TreeThreadPool,
    binned: BinnedMatrix,
    private readonly channels: number,
  ) {
    const { codes, binning, columns } = binned;
    this.binned = {
      ...binned,
      codes: pool.share(codes),
      binning: { ...binning, binOffsets: pool.share(binning.binOffsets), binCounts: pool.share(binning.binCounts) },
    };
    this.featureList = pool.int32((MAX_SCANS + 1) * columns);
    this.stride = 3 + channels;
    this.results = pool.float64(MAX_BLOCKS * MAX_SCANS * this.stride);
  }

  /**
   * Builds (optionally) and scans on every thread. `blockFeatures` (ascending) are split into blocks;
   * every scan's features must be among them. Each scan's `search` ends with the best split over its
   * features, exactly as `scanFeature` over them in order would leave it.
   */
  run(
    statistics: NodeStatistics,
    limits: GrowthLimits,
    rowIndices: Int32Array,
    blockFeatures: Int32Array,
    blockFeatureCount: number,
    build: BuildRequest | undefined,
    scans: readonly ScanRequest[],
  ): void {
    const pool = this.pool;
    const integers = pool.integers;
    const numbers = pool.numbers;
    const channels = this.channels;
    const list = this.featureList;
    const { codes, binning, rows } = this.binned;
    pool.locate(codes, integers, INTEGER.codes);
    pool.locate(binning.binOffsets, integers, INTEGER.binOffsets);
    pool.locate(binning.binCounts, integers, INTEGER.binCounts);
    pool.locate(rowIndices, integers, INTEGER.rowIndices);
    pool.locate(list, integers, INTEGER.featureList);
    pool.locate(this.results, integers, INTEGER.results);
    integers[INTEGER.rows] = rows;
    list.set(blockFeatures.subarray(0, blockFeatureCount), 0);
    integers[INTEGER.blockOffset] = 0;
    integers[INTEGER.blockCount] = blockFeatureCount;
    let listEnd = blockFeatureCount;
    integers[INTEGER.build] = build === undefined ? 0 : 1;
    integers[INTEGER.subtract] = 0;
    if (build !== undefined) {
      pool.locate(build.histogram, integers, INTEGER.histogram);
      integers[INTEGER.start] = build.start;
      integers[INTEGER.end] = build.end;
      if (build.subtractFrom !== undefined) {
        integers[INTEGER.subtract] = 1;
        pool.locate(build.subtractFrom, integers, INTEGER.subtractFrom);
      }
    }
    integers[INTEGER.scanCount] = scans.length;
    numbers[NUMBER.minChildWeight] = limits.minChildWeight;
    numbers[NUMBER.minSamplesPerLeaf] = limits.minSamplesPerLeaf;
    scans.forEach((scan, index) => {
      const base = INTEGER.scans + 4 * index;
      pool.locate(scan.histogram, integers, base);
      integers[base + 2] = listEnd;
      integers[base + 3] = scan.count;
      list.set(scan.features.subarray(0, scan.count), listEnd);
      listEnd += scan.count;
      const numberBase = NUMBER.scans + SCAN_NUMBERS * index;
      numbers[numberBase] = scan.search.gain;
      for (let channel = 0; channel < channels; channel++) numbers[numberBase + 1 + channel] = scan.totals[scan.offset + channel];
    });
    statistics.describe(integers, INTEGER.statistics, numbers, NUMBER.statistics, pool.memory);
    const blocks = blockCountFor(blockFeatureCount, pool.threads);
    integers[INTEGER.blocks] = blocks;
    pool.run(TASK_KINDS.nodeSearch, blocks);
    // combine the blocks in feature order: a later block wins only with a strictly larger gain
    const results = this.results;
    const stride = this.stride;
    scans.forEach((scan, index) => {
      const search = scan.search;
      for (let block = 0; block < blocks; block++) {
        const slot = (block * MAX_SCANS + index) * stride;
        if (results[slot + 1] < 0 || !(results[slot] > search.gain)) continue;
        search.gain = results[slot];
        search.feature = results[slot + 1];
        search.bin = results[slot + 2];
        for (let channel = 0; channel < channels; channel++) search.left[channel] = results[slot + 3 + channel];
      }
    });
  }
}

/** Blocks of features per job: a few per thread (claimed as threads free up), but not below 4 features each. */
function blockCountFor(features: number, threads: number): number {
  return Math.max(1, Math.min(MAX_BLOCKS, 2 * threads, Math.floor(features / 4)));
}

/** One block of a node search job, on whichever thread claims it. */
export function runNodeSearchTask(environment: TaskEnvironment, task: number): void {
  const { integers, numbers } = environment;
  const statistics = statisticsFromDescription(integers, INTEGER.statistics, numbers, NUMBER.statistics, environment.memory);
  const channels = statistics.channels;
  const codes = uint8At(environment, INTEGER.codes);
  const rows = integers[INTEGER.rows];
  const binOffsets = int32At(environment, INTEGER.binOffsets);
  const binCounts = int32At(environment, INTEGER.binCounts);
  const list = int32At(environment, INTEGER.featureList);
  const results = float64At(environment, INTEGER.results);
  const stride = 3 + channels;
  const blockOffset = integers[INTEGER.blockOffset];
  const [first, last] = taskRange(task, integers[INTEGER.blocks], integers[INTEGER.blockCount]);
  const features = list.subarray(blockOffset + first, blockOffset + last);
  const count = last - first;
  if (integers[INTEGER.build] !== 0 && count > 0) {
    const histogram = float64At(environment, INTEGER.histogram);
    clearHistogram(histogram, binOffsets, features, count, channels);
    const rowIndices = int32At(environment, INTEGER.rowIndices);
    statistics.build({ codes, rows, binOffsets, rowIndices, start: integers[INTEGER.start], end: integers[INTEGER.end], features, featureCount: count }, histogram);
    if (integers[INTEGER.subtract] !== 0) subtractHistogram(float64At(environment, INTEGER.subtractFrom), histogram, binOffsets, features, count, channels);
  }
  const limits: GrowthLimits = {
    maxDepth: Number.POSITIVE_INFINITY,
    maxLeaves: Number.POSITIVE_INFINITY,
    minChildWeight: numbers[NUMBER.minChildWeight],
    minSamplesPerLeaf: numbers[NUMBER.minSamplesPerLeaf],
    minSplitGain: 0,
    growPolicy: 'depthwise',
  };
  let search = environment.local.get(`search:${channels}`) as SplitSearch | undefined;
  if (search === undefined) environment.local.set(`search:${channels}`, (search = new SplitSearch(channels)));
  const scanCount = integers[INTEGER.scanCount];
  for (let scan = 0; scan < scanCount; scan++) {
    const base = INTEGER.scans + 4 * scan;
    const numberBase = NUMBER.scans + SCAN_NUMBERS * scan;
    search.reset(numbers[numberBase]);
    if (count > 0) {
      const histogram = float64At(environment, base);
      const scanOffset = integers[base + 2];
      const scanEnd = scanOffset + integers[base + 3];
      const lowest = features[0];
      const highest = features[count - 1];
      for (let next = scanOffset; next < scanEnd; next++) {
        const feature = list[next];
        if (feature < lowest) continue;
        if (feature > highest) break;
        statistics.scanFeature(histogram, feature, binOffsets[feature], 0, binCounts[feature] - 1, numbers, numberBase + 1, limits, search);
      }
    }
    const slot = (task * MAX_SCANS + scan) * stride;
    results[slot] = search.gain;
    results[slot + 1] = search.feature;
    results[slot + 2] = search.bin;
    for (let channel = 0; channel < channels; channel++) results[slot + 3 + channel] = search.left[channel];
  }
}
