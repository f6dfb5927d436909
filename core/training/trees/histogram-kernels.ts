/**
 * The histogram kernels of gradient boosting in WebAssembly: the same loops as
 * `accumulateGradientPairs` and `accumulateThreeClassRootPairs` (histogram.ts), adding the same
 * float32 values promoted to float64 in the same order, so the histograms are bit for bit the
 * same, about twice as fast (no bounds check per access, tighter code for the scattered adds).
 *
 * They work on arrays in a TrainingMemory; a call whose arrays are elsewhere returns false and the
 * caller runs the JavaScript kernel.
 */
import type { HistogramSource } from './histogram';
import type { TrainingMemory } from './training-memory';
import { MAXIMUM_PAGES } from './training-memory';
import { assembleModule, FunctionWriter, webAssembly, type Local } from './wasm-assembler';

/** Features per pass over the rows (one row's index and gradients serve all of them). */
const GRADIENT_PASS_WIDTHS = [8, 4, 1] as const;
const ROOT_PASS_WIDTHS = [4, 1] as const;

/**
 * gradientPairs(codes, rows, binOffsets, rowIndices, start, end, features, featureCount, pairs, histogram):
 * for each listed feature f and row r = rowIndices[start…end): histogram[binOffsets[f] + codes[f·rows + r]] += (g_r, h_r).
 * Pointers are byte offsets; start and end index rowIndices.
 */
function gradientPairsFunction(): FunctionWriter {
  const writer = new FunctionWriter(['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32']);
  const [codes, rows, binOffsets, rowIndices, start, end, features, featureCount, pairs, histogram] = writer.parameters;
  const next = writer.local('i32');
  const index = writer.local('i32');
  const row = writer.local('i32');
  const slot = writer.local('i32');
  const gradient = writer.local('f64');
  const hessian = writer.local('f64');
  const columns = Array.from({ length: GRADIENT_PASS_WIDTHS[0] }, () => writer.local('i32'));
  const bases = Array.from({ length: GRADIENT_PASS_WIDTHS[0] }, () => writer.local('i32'));
  featurePasses(
    writer,
    GRADIENT_PASS_WIDTHS,
    next,
    featureCount,
    (lane) => {
      loadFeature(writer, features, next, lane, slot);
      writer.get(codes).get(slot).get(rows).multiply().add().set(columns[lane]);
      writer.get(histogram).get(binOffsets).get(slot).shiftLeft(2).add().loadInt32().shiftLeft(4).add().set(bases[lane]);
    },
    (width) => {
      writer.forRange(index, start, end, 1, () => {
        writer.get(rowIndices).get(index).shiftLeft(2).add().loadInt32().set(row);
        writer.get(pairs).get(row).shiftLeft(3).add().tee(slot).loadFloat32AsFloat64(0).set(gradient);
        writer.get(slot).loadFloat32AsFloat64(4).set(hessian);
        for (let lane = 0; lane < width; lane++) {
          writer.get(bases[lane]).get(columns[lane]).get(row).add().loadUint8().shiftLeft(4).add().set(slot);
          writer.addToFloat64(slot, 0, gradient).addToFloat64(slot, 8, hessian);
        }
      });
    },
  );
  return writer;
}

/**
 * threeClassRootPairs(codes, rows, binOffsets, features, featureCount, pairs0, pairs1, pairs2, histogram0, histogram1, histogram2):
 * every row into three classes' histograms at once.
 */
function threeClassRootPairsFunction(): FunctionWriter {
  const writer = new FunctionWriter(['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32']);
  const [codes, rows, binOffsets, features, featureCount, pairs0, pairs1, pairs2, histogram0, histogram1, histogram2] = writer.parameters;
  const next = writer.local('i32');
  const row = writer.local('i32');
  const zero = writer.local('i32');
  const slot = writer.local('i32');
  const offset = writer.local('i32');
  const values = Array.from({ length: 6 }, () => writer.local('f64'));
  const columns = Array.from({ length: ROOT_PASS_WIDTHS[0] }, () => writer.local('i32'));
  const bases = Array.from({ length: ROOT_PASS_WIDTHS[0] }, () => writer.local('i32'));
  const pairs = [pairs0, pairs1, pairs2];
  const histograms = [histogram0, histogram1, histogram2];
  featurePasses(
    writer,
    ROOT_PASS_WIDTHS,
    next,
    featureCount,
    (lane) => {
      loadFeature(writer, features, next, lane, slot);
      writer.get(codes).get(slot).get(rows).multiply().add().set(columns[lane]);
      writer.get(binOffsets).get(slot).shiftLeft(2).add().loadInt32().shiftLeft(4).set(bases[lane]);
    },
    (width) => {
      writer.forRange(row, zero, rows, 1, () => {
        for (let label = 0; label < 3; label++) {
          writer.get(pairs[label]).get(row).shiftLeft(3).add().tee(slot).loadFloat32AsFloat64(0).set(values[2 * label]);
          writer.get(slot).loadFloat32AsFloat64(4).set(values[2 * label + 1]);
        }
        for (let lane = 0; lane < width; lane++) {
          writer.get(bases[lane]).get(columns[lane]).get(row).add().loadUint8().shiftLeft(4).add().set(offset);
          for (let label = 0; label < 3; label++) {
            writer.get(histograms[label]).get(offset).add().set(slot);
            writer.addToFloat64(slot, 0, values[2 * label]).addToFloat64(slot, 8, values[2 * label + 1]);
          }
        }
      });
    },
  );
  return writer;
}

/**
 * partition(rowIndices, start, end, column, bin, scratch) → middle: the stable in-place partition
 * of `TreeGrower.partition` (rows whose code in `column` is <= bin first), branch-free.
 */
function partitionFunction(): FunctionWriter {
  const writer = new FunctionWriter(['i32', 'i32', 'i32', 'i32', 'i32', 'i32'], 'i32');
  const [rowIndices, start, end, column, bin, scratch] = writer.parameters;
  const index = writer.local('i32');
  const row = writer.local('i32');
  const write = writer.local('i32');
  const rightCount = writer.local('i32');
  const goesRight = writer.local('i32');
  writer.get(start).set(write);
  writer.forRange(index, start, end, 1, () => {
    writer.get(rowIndices).get(index).shiftLeft(2).add().loadInt32().set(row);
    // the sign bit of bin − code: 1 when the row goes right
    writer.get(bin).get(column).get(row).add().loadUint8().subtract().shiftRightUnsigned(31).set(goesRight);
    writer.get(rowIndices).get(write).shiftLeft(2).add().get(row).storeInt32();
    writer.get(scratch).get(rightCount).shiftLeft(2).add().get(row).storeInt32();
    writer.get(write).i32(1).add().get(goesRight).subtract().set(write);
    writer.get(rightCount).get(goesRight).add().set(rightCount);
  });
  writer.get(rowIndices).get(write).shiftLeft(2).add().get(scratch).get(rightCount).shiftLeft(2).copyMemory();
  writer.get(write);
  return writer;
}

/**
 * The features `next…featureCount` in passes over the rows: for each width in turn, as many passes
 * of that many features as fit; `lane(l)` prepares feature next + l's locals, `passRows(width)`
 * writes the loop over the rows; `next` advances after each pass.
 */
function featurePasses(
  writer: FunctionWriter,
  widths: readonly number[],
  next: Local,
  featureCount: Local,
  lane: (lane: number) => void,
  passRows: (width: number) => void,
): void {
  for (const width of widths) {
    writer.whileTrue(
      () => writer.get(next).i32(width).add().get(featureCount).lessOrEqualUnsigned(),
      () => {
        for (let index = 0; index < width; index++) lane(index);
        passRows(width);
        writer.get(next).i32(width).add().set(next);
      },
    );
  }
}

/** target = features[next + lane] (features is a byte offset). */
function loadFeature(writer: FunctionWriter, features: Local, next: Local, lane: number, target: Local): void {
  writer.get(features).get(next).i32(lane).add().shiftLeft(2).add().loadInt32().set(target);
}

let compiledModule: object | undefined;

/** The kernels' module, assembled and compiled once per thread. */
function kernelModule(): object {
  compiledModule ??= new (webAssembly().Module)(
    assembleModule(
      [
        { name: 'gradientPairs', writer: gradientPairsFunction() },
        { name: 'threeClassRootPairs', writer: threeClassRootPairsFunction() },
        { name: 'partition', writer: partitionFunction() },
      ],
      MAXIMUM_PAGES,
    ),
  );
  return compiledModule;
}

type Kernel = (...pointers: number[]) => void;
type PartitionKernel = (rowIndices: number, start: number, end: number, column: number, bin: number, scratch: number) => number;

/** The kernels of one thread over one TrainingMemory. */
export class HistogramKernels {
  private readonly gradientPairs: Kernel;
  private readonly threeClassRootPairs: Kernel;
  private readonly partitionRows: PartitionKernel;
  private features: Int32Array | undefined;
  private featuresEpoch = -1;

  constructor(private readonly memory: TrainingMemory) {
    const instance = new (webAssembly().Instance)(kernelModule(), { env: { memory: memory.memory } });
    this.gradientPairs = instance.exports.gradientPairs as Kernel;
    this.threeClassRootPairs = instance.exports.threeClassRootPairs as Kernel;
    this.partitionRows = instance.exports.partition as PartitionKernel;
  }

  /**
   * `TreeGrower.partition` in WebAssembly: where the right rows start, or −1 (nothing done) when an
   * array is not in the memory. `column` indexes `codes` (feature × rows).
   */
  partition(codes: Uint8Array, rowIndices: Int32Array, start: number, end: number, column: number, bin: number, scratch: Int32Array): number {
    const memory = this.memory;
    if (!(memory.contains(codes) && memory.contains(rowIndices) && memory.contains(scratch))) return -1;
    return this.partitionRows(rowIndices.byteOffset, start, end, codes.byteOffset + column, bin, scratch.byteOffset);
  }

  /** `partition` by byte offsets in the memory (a task's arrays): `codesColumn` is where the split feature's codes start. */
  partitionAt(rowIndices: number, start: number, end: number, codesColumn: number, bin: number, scratch: number): number {
    return this.partitionRows(rowIndices, start, end, codesColumn, bin, scratch);
  }

  /** `accumulateGradientPairs` in WebAssembly; false (nothing done) when an array is not in the memory. */
  accumulateGradientPairs(source: HistogramSource, pairs: Float32Array, histogram: Float64Array): boolean {
    const memory = this.memory;
    const { codes, rows, binOffsets, rowIndices, start, end, features, featureCount } = source;
    if (!(memory.contains(codes) && memory.contains(binOffsets) && memory.contains(rowIndices) && memory.contains(pairs) && memory.contains(histogram))) return false;
    const list = this.featureList(features, featureCount);
    this.gradientPairs(
      codes.byteOffset,
      rows,
      binOffsets.byteOffset,
      rowIndices.byteOffset,
      start,
      end,
      list.byteOffset,
      featureCount,
      pairs.byteOffset,
      histogram.byteOffset,
    );
    return true;
  }

  /** `accumulateThreeClassRootPairs` in WebAssembly; false (nothing done) when an array is not in the memory. */
  accumulateThreeClassRootPairs(
    codes: Uint8Array,
    rows: number,
    binOffsets: Int32Array,
    features: Int32Array,
    featureCount: number,
    pairs: readonly [Float32Array, Float32Array, Float32Array],
    histograms: readonly [Float64Array, Float64Array, Float64Array],
  ): boolean {
    const memory = this.memory;
    if (![codes, binOffsets, ...pairs, ...histograms].every((array) => memory.contains(array))) return false;
    const list = this.featureList(features, featureCount);
    this.threeClassRootPairs(
      codes.byteOffset,
      rows,
      binOffsets.byteOffset,
      list.byteOffset,
      featureCount,
      pairs[0].byteOffset,
      pairs[1].byteOffset,
      pairs[2].byteOffset,
      histograms[0].byteOffset,
      histograms[1].byteOffset,
      histograms[2].byteOffset,
    );
    return true;
  }

  /** The features copied into this thread's scratch list in the memory. */
  private featureList(features: Int32Array, count: number): Int32Array {
    const epoch = this.memory.epoch;
    if (this.features === undefined || this.featuresEpoch !== epoch || this.features.length < count) {
      this.features = this.memory.int32(Math.max(count, 256));
      this.featuresEpoch = epoch;
    }
    this.features.set(features.subarray(0, count));
    return this.features;
  }
}
