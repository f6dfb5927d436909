/* eslint-disable no-bitwise -- float32 bit patterns as sortable integer keys (radix sort, bin lookup tables) */
/**
 * Quantile binning: every feature's values are cut into at most `maxBin` bins (like XGBoost `hist`),
 * and the training rows are stored as one-byte bin codes, column by column.
 *
 * The cuts are float32 values taken from the data. A value x falls in bin b when
 * `upperBound[b-1] < x <= upperBound[b]`, so a split "bins 0…b go left" is exactly the ONNX rule
 * `x <= upperBound[b]` (BRANCH_LEQ) compared in float32: a row lying exactly on a threshold goes left,
 * and the in-process predictor and ONNX Runtime agree with the training partition.
 *
 * Missing values (NaN) get a bin of their own after the real bins, but only for features that have
 * NaN in the training matrix. Splitting it off uses the threshold +Infinity (every number goes left,
 * NaN goes right, as `NaN <= t` is false). A NaN in a feature that had none in training is put in the
 * last real bin, which every split of that feature also sends right: both agree with `x <= t`.
 */
import { SeededRandom } from './random';

/** The cuts of every feature: fitted on a training matrix, reusable for any matrix of the same columns. */
export interface FeatureBinning {
  readonly columns: number;
  /** Bins per feature, the missing-value bin included. */
  readonly binCounts: Int32Array;
  /**
   * Start of each feature's bins in per-bin arrays (histograms, `upperBounds`); columns + 1 entries.
   * Each feature's range is a whole number of BIN_ALIGNMENT bins (the bins past `binCounts` are
   * padding): a histogram line of 64 bytes never holds two features' bins, so threads building
   * different features never write the same cache line.
   */
  readonly binOffsets: Int32Array;
  /** Code of the feature's missing-value bin, or -1 when the feature had no NaN in training. */
  readonly missingBins: Int32Array;
  /**
   * Per bin (at `binOffsets[feature] + bin`): the float32 threshold that sends bins 0…bin left.
   * The last real bin's bound is +Infinity; a missing-value bin's is NaN (never a split).
   */
  readonly upperBounds: Float32Array;
}

/** A matrix as bin codes, column-major: `codes[feature · rows + row]`. */
export interface BinnedMatrix {
  readonly rows: number;
  readonly columns: number;
  readonly codes: Uint8Array;
  readonly binning: FeatureBinning;
}

/** What binning needs; validated by the trainers that call it. */
export interface BinningSettings {
  /** Bins per feature, 2–256, the missing-value bin included. */
  readonly maxBin: number;
  /** Rows sampled (without replacement) to place the cuts; all rows when there are fewer. */
  readonly sampleRows: number;
  readonly seed: number;
}

/** Each feature's bins start on a multiple of this many (8 bins × channels × 8 bytes: whole 64-byte lines). */
export const BIN_ALIGNMENT = 8;

/** The largest number of bins a one-byte code can address. */
export const MAX_BIN_LIMIT = 256;

/** Rows sampled to place the cuts unless told otherwise: ~390 per bin at 256 bins, a fraction of a bin's width off. */
export const DEFAULT_BIN_SAMPLE_ROWS = 100_000;

/** Entries of a feature's bucket table (`binRowRange`): one per top-16-bit key prefix, and one past the last. */
export const BUCKET_TABLE_SIZE = 65_537;

/**
 * Where fitting the cuts of features writes (each feature at its own place, so blocks of features
 * can be fitted by different threads): its cuts at `feature · maxBin`, their count, whether the
 * feature has a NaN, and its bucket table at `feature · BUCKET_TABLE_SIZE`.
 */
export interface FeatureCuts {
  readonly maxBin: number;
  readonly cuts: Float32Array;
  readonly cutCounts: Int32Array;
  readonly missing: Int32Array;
  readonly tables: Uint16Array;
}

/** Zeroed FeatureCuts for `columns` features, in plain arrays. */
export function allocateFeatureCuts(columns: number, maxBin: number): FeatureCuts {
  return {
    maxBin,
    cuts: new Float32Array(columns * maxBin),
    cutCounts: new Int32Array(columns),
    missing: new Int32Array(columns),
    tables: new Uint16Array(columns * BUCKET_TABLE_SIZE),
  };
}

/** Fits quantile cuts for every column of a row-major float32 matrix. */
export function fitFeatureBinning(values: Float32Array, rows: number, columns: number, settings: BinningSettings): FeatureBinning {
  const sampledRows = sampleRowIndices(rows, settings.sampleRows, settings.seed);
  const output = allocateFeatureCuts(columns, settings.maxBin);
  fitCutsOfFeatures(values, columns, sampledRows, 0, columns, new BinFitScratch(sampledRows.length, columns), output);
  return assembleBinning(columns, output);
}

/** The reusable buffers of `fitCutsOfFeatures` (a thread keeps one from task to task). */
export class BinFitScratch {
  readonly sorter: Float32Sorter;
  /** A block's sample, column-major. */
  readonly sampleColumns: Float32Array;

  constructor(
    readonly sampleSize: number,
    readonly blockColumns: number,
  ) {
    this.sorter = new Float32Sorter(sampleSize);
    this.sampleColumns = new Float32Array(sampleSize * blockColumns);
  }
}

/**
 * Fits the cuts of features [first, end) of a row-major matrix from the sampled rows (ascending),
 * into `output` at those features' places. What a feature gets depends on its values only.
 */
export function fitCutsOfFeatures(
  values: Float32Array,
  columns: number,
  sampledRows: Int32Array,
  first: number,
  end: number,
  scratch: BinFitScratch,
  output: FeatureCuts,
): void {
  const width = end - first;
  if (width <= 0) return;
  const { missing, cutCounts, maxBin } = output;
  for (let feature = first; feature < end; feature++) missing[feature] = 0;
  for (let base = first; base < values.length; base += columns) {
    for (let index = 0; index < width; index++) {
      const value = values[base + index];
      if (value !== value) missing[first + index] = 1;
    }
  }
  // the block's sample, column-major (one sequential pass over the sampled rows)
  const sampleSize = sampledRows.length;
  const sampleColumns = scratch.sampleColumns;
  for (let index = 0; index < sampleSize; index++) {
    const base = sampledRows[index] * columns + first;
    for (let offset = 0; offset < width; offset++) sampleColumns[offset * sampleSize + index] = values[base + offset];
  }
  const sorter = scratch.sorter;
  for (let feature = first; feature < end; feature++) {
    const sample = sorter.input;
    const column = sampleColumns.subarray((feature - first) * sampleSize, (feature - first + 1) * sampleSize);
    let size = 0;
    for (let index = 0; index < sampleSize; index++) {
      const value = column[index];
      // −0 becomes +0, so that a cut at zero is +0 and both zeros fall at or below it (as `x <= 0` says)
      if (value === value) sample[size++] = value === 0 ? 0 : value;
    }
    const cuts = quantileCuts(sorter.sort(size), maxBin - missing[feature]);
    output.cuts.set(cuts, feature * maxBin);
    cutCounts[feature] = cuts.length;
    fillBucketTable(cuts, output.tables.subarray(feature * BUCKET_TABLE_SIZE, (feature + 1) * BUCKET_TABLE_SIZE));
  }
}

/** The binning the fitted cuts of every feature describe (plain arrays). */
export function assembleBinning(columns: number, fitted: FeatureCuts): FeatureBinning {
  const { cutCounts, missing, maxBin } = fitted;
  const binCounts = new Int32Array(columns);
  const missingBins = new Int32Array(columns).fill(-1);
  for (let feature = 0; feature < columns; feature++) {
    const realBins = cutCounts[feature] + 1;
    binCounts[feature] = realBins + missing[feature];
    if (missing[feature] !== 0) missingBins[feature] = realBins;
  }
  const binOffsets = new Int32Array(columns + 1);
  for (let feature = 0; feature < columns; feature++) binOffsets[feature + 1] = binOffsets[feature] + Math.ceil(binCounts[feature] / BIN_ALIGNMENT) * BIN_ALIGNMENT;
  // padding bins are never a split: NaN bounds
  const upperBounds = new Float32Array(binOffsets[columns]).fill(Number.NaN);
  for (let feature = 0; feature < columns; feature++) {
    const offset = binOffsets[feature];
    const cutCount = cutCounts[feature];
    upperBounds.set(fitted.cuts.subarray(feature * maxBin, feature * maxBin + cutCount), offset);
    upperBounds[offset + cutCount] = Number.POSITIVE_INFINITY;
    if (missing[feature] !== 0) upperBounds[offset + cutCount + 1] = Number.NaN;
  }
  return { columns, binCounts, binOffsets, missingBins, upperBounds };
}

/**
 * Bins a row-major float32 matrix with fitted cuts (training, validation or any later matrix).
 * A per-feature table indexed by the top 16 bits of the value's sortable key gives the range of bins
 * the value can be in (usually one), so most values cost a table read instead of a binary search.
 */
export function binFeatureMatrix(values: Float32Array, rows: number, columns: number, binning: FeatureBinning): BinnedMatrix {
  const codes = new Uint8Array(rows * columns);
  binRowRange(values, rows, binning, bucketTables(binning), 0, rows, codes);
  return { rows, columns, codes, binning };
}

/**
 * Writes the codes of rows [start, end) (`codes[feature · rows + row]`), with the features' bucket
 * tables (`FeatureCuts.tables`' layout). Rows in blocks, then features: the block's values stay in
 * cache while each column is written in order.
 */
export function binRowRange(values: Float32Array, rows: number, binning: FeatureBinning, tables: Uint16Array, start: number, end: number, codes: Uint8Array): void {
  const columns = binning.columns;
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const { binOffsets, upperBounds, missingBins } = binning;
  const blockRows = 256;
  for (let blockStart = start; blockStart < end; blockStart += blockRows) {
    const blockEnd = Math.min(end, blockStart + blockRows);
    for (let feature = 0; feature < columns; feature++) {
      const offset = binOffsets[feature];
      const realBins = missingBins[feature] >= 0 ? missingBins[feature] : binning.binCounts[feature];
      const missingCode = missingBins[feature] >= 0 ? missingBins[feature] : realBins - 1;
      const table = feature * BUCKET_TABLE_SIZE;
      const column = feature * rows;
      for (let row = blockStart; row < blockEnd; row++) {
        const index = row * columns + feature;
        const value = values[index];
        if (value !== value) {
          codes[column + row] = missingCode;
          continue;
        }
        const bucket = table + (sortableKey(bits[index]) >>> 16);
        // the first cut >= value lies in [table[bucket], table[bucket + 1]] (a cut count when none)
        let low = tables[bucket];
        let high = tables[bucket + 1];
        while (low < high) {
          const middle = (low + high) >>> 1;
          if (upperBounds[offset + middle] < value) low = middle + 1;
          else high = middle;
        }
        codes[column + row] = low;
      }
    }
  }
}

/** The same matrix with its codes and bin layout copied into a training memory (where the histogram kernels and threads work). */
export function binnedMatrixInMemory(binned: BinnedMatrix, memory: { copy<T extends Uint8Array | Int32Array>(array: T): T }): BinnedMatrix {
  const { binning } = binned;
  return {
    ...binned,
    codes: memory.copy(binned.codes),
    binning: { ...binning, binCounts: memory.copy(binning.binCounts), binOffsets: memory.copy(binning.binOffsets) },
  };
}

/** Maps float32 bits to a uint32 that orders like the float (negatives reversed below positives). */
function sortableKey(bits: number): number {
  return (bits ^ ((bits >> 31) | 0x80000000)) >>> 0;
}

/** Every feature's bucket table (`FeatureCuts.tables`' layout) from a binning's cuts. */
function bucketTables(binning: FeatureBinning): Uint16Array {
  const tables = new Uint16Array(binning.columns * BUCKET_TABLE_SIZE);
  for (let feature = 0; feature < binning.columns; feature++) {
    const offset = binning.binOffsets[feature];
    const realBins = binning.missingBins[feature] >= 0 ? binning.missingBins[feature] : binning.binCounts[feature];
    fillBucketTable(binning.upperBounds.subarray(offset, offset + realBins - 1), tables.subarray(feature * BUCKET_TABLE_SIZE, (feature + 1) * BUCKET_TABLE_SIZE));
  }
  return tables;
}

/**
 * A feature's bucket table from its ascending cuts: entry b = number of cuts whose key is below
 * b·2^16, so every value whose key starts with b has its first cut >= value between entries b and b + 1.
 */
function fillBucketTable(cuts: Float32Array, table: Uint16Array): void {
  const cutBits = new Uint32Array(cuts.buffer, cuts.byteOffset, cuts.length);
  let bucket = 0;
  for (let cut = 0; cut < cuts.length; cut++) {
    // buckets up to the cut's own prefix have only the cuts before it below them
    const prefix = sortableKey(cutBits[cut]) >>> 16;
    if (prefix >= bucket) {
      table.fill(cut, bucket, prefix + 1);
      bucket = prefix + 1;
    }
  }
  table.fill(cuts.length, bucket, BUCKET_TABLE_SIZE);
}

/** LSD radix sort of float32 values (NaN-free) on their sortable keys: 3 passes of 11 bits. */
export class Float32Sorter {
  readonly input: Float32Array;
  private readonly keys: Uint32Array;
  private readonly scratch: Uint32Array;
  private readonly counts = new Int32Array(2048);

  constructor(capacity: number) {
    this.input = new Float32Array(capacity);
    this.keys = new Uint32Array(capacity);
    this.scratch = new Uint32Array(capacity);
  }

  /** Sorts input[0, size) ascending and returns it as a view. */
  sort(size: number): Float32Array {
    const inputBits = new Uint32Array(this.input.buffer, 0, size);
    let from = this.keys;
    let to = this.scratch;
    for (let index = 0; index < size; index++) from[index] = sortableKey(inputBits[index]);
    for (let shift = 0; shift < 32; shift += 11) {
      const counts = this.counts;
      counts.fill(0);
      for (let index = 0; index < size; index++) counts[(from[index] >>> shift) & 2047]++;
      let sum = 0;
      for (let digit = 0; digit < 2048; digit++) {
        const count = counts[digit];
        counts[digit] = sum;
        sum += count;
      }
      for (let index = 0; index < size; index++) {
        const key = from[index];
        to[counts[(key >>> shift) & 2047]++] = key;
      }
      const swap = from;
      from = to;
      to = swap;
    }
    for (let index = 0; index < size; index++) {
      const key = from[index];
      // invert sortableKey: keys of negatives have the top bit clear
      inputBits[index] = key & 0x80000000 ? key ^ 0x80000000 : ~key >>> 0;
    }
    return this.input.subarray(0, size);
  }
}

/**
 * At most `maxBins - 1` cuts over sorted finite values: every distinct value when few, else cuts that
 * give the bins roughly equal counts (ties never straddle a cut, so a heavy value fills a bin alone).
 */
function quantileCuts(sorted: Float32Array, maxBins: number): Float32Array {
  const size = sorted.length;
  let distinctCount = size > 0 ? 1 : 0;
  for (let index = 1; index < size; index++) if (sorted[index] !== sorted[index - 1]) distinctCount++;
  if (distinctCount <= maxBins) {
    const cuts = new Float32Array(Math.max(0, distinctCount - 1));
    let written = 0;
    for (let index = 1; index < size && written < cuts.length; index++) if (sorted[index] !== sorted[index - 1]) cuts[written++] = sorted[index - 1];
    return cuts;
  }
  const cuts = new Float32Array(maxBins - 1);
  let written = 0;
  let remainingCount = size;
  let remainingBins = maxBins;
  let accumulated = 0;
  // walk runs of equal values; a cut may follow any run but the last
  for (let runStart = 0; runStart < size && remainingBins > 1; ) {
    let runEnd = runStart + 1;
    while (runEnd < size && sorted[runEnd] === sorted[runStart]) runEnd++;
    if (runEnd === size) break;
    accumulated += runEnd - runStart;
    if (accumulated >= remainingCount / remainingBins) {
      cuts[written++] = sorted[runStart];
      remainingCount -= accumulated;
      accumulated = 0;
      remainingBins--;
    }
    runStart = runEnd;
  }
  return cuts.slice(0, written);
}

export function sampleRowIndices(rows: number, sampleRows: number, seed: number): Int32Array {
  const all = new Int32Array(rows);
  for (let row = 0; row < rows; row++) all[row] = row;
  if (rows <= sampleRows) return all;
  return new SeededRandom(seed, 0x62696e73).sampleSorted(all, sampleRows);
}
