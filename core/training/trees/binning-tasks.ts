/**
 * Binning a training matrix on the threads: the cuts of blocks of features (each feature's cuts
 * depend on its values only), then the codes of blocks of rows (each row's codes depend on the cuts
 * only), so the binned matrix is the same with any number of threads.
 */
import {
  assembleBinning,
  BinFitScratch,
  binFeatureMatrix,
  binnedMatrixInMemory,
  binRowRange,
  BUCKET_TABLE_SIZE,
  fitCutsOfFeatures,
  fitFeatureBinning,
  sampleRowIndices,
  type BinnedMatrix,
  type BinningSettings,
  type FeatureCuts,
} from './binning';
import { float32At, int32At, TASK_KINDS, taskRange, uint8At, type TaskEnvironment } from './task-kinds';
import type { TreeThreadPool } from './thread-pool';
import type { TrainingMemory } from './training-memory';

/** Integer parameters of the cuts job (an array takes two: byte offset and length). */
const FIT = { rows: 0, columns: 1, maxBin: 2, blocks: 3, values: 4, sampledRows: 6, cuts: 8, cutCounts: 10, missing: 12, tables: 14 } as const;
/** Integer parameters of the codes job. */
const CODES = { rows: 0, columns: 1, blocks: 2, values: 4, codes: 6, binCounts: 8, binOffsets: 10, missingBins: 12, upperBounds: 14, tables: 16 } as const;
/** Rows of a codes task start on a multiple of this (64 one-byte codes: two tasks never write one cache line of a column). */
const ROW_ALIGNMENT = 64;

/**
 * Fits the bins of a training matrix and bins it, into `memory` (codes and bin layout, as
 * `binnedMatrixInMemory` gives): on the threads when there are two or more, else on this thread.
 */
export function binTrainingMatrix(
  values: Float32Array,
  rows: number,
  columns: number,
  settings: BinningSettings,
  memory: TrainingMemory,
  threads: TreeThreadPool | undefined,
): BinnedMatrix {
  if (threads === undefined || threads.threads < 2 || rows === 0 || columns === 0) {
    return binnedMatrixInMemory(binFeatureMatrix(values, rows, columns, fitFeatureBinning(values, rows, columns, settings)), memory);
  }
  const integers = threads.integers;
  const shared = threads.share(values);
  const sampledRows = threads.share(sampleRowIndices(rows, settings.sampleRows, settings.seed));
  const fitted: FeatureCuts = {
    maxBin: settings.maxBin,
    cuts: memory.float32(columns * settings.maxBin),
    cutCounts: memory.int32(columns),
    missing: memory.int32(columns),
    tables: memory.view(Uint16Array, memory.allocateBytes(columns * BUCKET_TABLE_SIZE * 2), columns * BUCKET_TABLE_SIZE),
  };
  integers[FIT.rows] = rows;
  integers[FIT.columns] = columns;
  integers[FIT.maxBin] = settings.maxBin;
  const fitBlocks = Math.min(columns, 2 * threads.threads);
  integers[FIT.blocks] = fitBlocks;
  threads.locate(shared, integers, FIT.values);
  threads.locate(sampledRows, integers, FIT.sampledRows);
  threads.locate(fitted.cuts, integers, FIT.cuts);
  threads.locate(fitted.cutCounts, integers, FIT.cutCounts);
  threads.locate(fitted.missing, integers, FIT.missing);
  locateTables(memory, fitted.tables, integers, FIT.tables);
  threads.run(TASK_KINDS.fitBinCuts, fitBlocks);

  const plain = assembleBinning(columns, fitted);
  const binning = { ...plain, binCounts: memory.copy(plain.binCounts), binOffsets: memory.copy(plain.binOffsets) };
  const codes = memory.uint8(rows * columns);
  integers[CODES.rows] = rows;
  integers[CODES.columns] = columns;
  const codeBlocks = Math.min(Math.ceil(rows / ROW_ALIGNMENT), 4 * threads.threads);
  integers[CODES.blocks] = codeBlocks;
  threads.locate(shared, integers, CODES.values);
  threads.locate(codes, integers, CODES.codes);
  threads.locate(binning.binCounts, integers, CODES.binCounts);
  threads.locate(binning.binOffsets, integers, CODES.binOffsets);
  threads.locate(threads.share(plain.missingBins), integers, CODES.missingBins);
  threads.locate(threads.share(plain.upperBounds), integers, CODES.upperBounds);
  locateTables(memory, fitted.tables, integers, CODES.tables);
  threads.run(TASK_KINDS.binRows, codeBlocks);
  return { rows, columns, codes, binning };
}

function locateTables(memory: TrainingMemory, tables: Uint16Array, integers: Int32Array, at: number): void {
  integers[at] = memory.offsetOf(tables);
  integers[at + 1] = tables.length;
}

function tablesAt(environment: TaskEnvironment, at: number): Uint16Array {
  return environment.memory.view(Uint16Array, environment.integers[at], environment.integers[at + 1]);
}

/** One block of features of the cuts job. */
export function runFitBinCutsTask(environment: TaskEnvironment, task: number): void {
  const { integers } = environment;
  const columns = integers[FIT.columns];
  const [first, end] = taskRange(task, integers[FIT.blocks], columns);
  if (first === end) return;
  const sampledRows = int32At(environment, FIT.sampledRows);
  let scratch = environment.local.get('binFitScratch') as BinFitScratch | undefined;
  if (scratch === undefined || scratch.sampleSize !== sampledRows.length || scratch.blockColumns < end - first) {
    scratch = new BinFitScratch(sampledRows.length, end - first);
    environment.local.set('binFitScratch', scratch);
  }
  const output: FeatureCuts = {
    maxBin: integers[FIT.maxBin],
    cuts: float32At(environment, FIT.cuts),
    cutCounts: int32At(environment, FIT.cutCounts),
    missing: int32At(environment, FIT.missing),
    tables: tablesAt(environment, FIT.tables),
  };
  fitCutsOfFeatures(float32At(environment, FIT.values), columns, sampledRows, first, end, scratch, output);
}

/** One block of rows of the codes job. */
export function runBinRowsTask(environment: TaskEnvironment, task: number): void {
  const { integers } = environment;
  const rows = integers[CODES.rows];
  const [firstBlock, endBlock] = taskRange(task, integers[CODES.blocks], Math.ceil(rows / ROW_ALIGNMENT));
  const start = firstBlock * ROW_ALIGNMENT;
  const end = Math.min(rows, endBlock * ROW_ALIGNMENT);
  if (start >= end) return;
  const binning = {
    columns: integers[CODES.columns],
    binCounts: int32At(environment, CODES.binCounts),
    binOffsets: int32At(environment, CODES.binOffsets),
    missingBins: int32At(environment, CODES.missingBins),
    upperBounds: float32At(environment, CODES.upperBounds),
  };
  binRowRange(float32At(environment, CODES.values), rows, binning, tablesAt(environment, CODES.tables), start, end, uint8At(environment, CODES.codes));
}
