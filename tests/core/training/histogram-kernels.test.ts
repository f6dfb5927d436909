import { describe, expect, it } from 'vitest';
import { accumulateGradientPairs, accumulateThreeClassRootPairs } from '../../../core/training/trees/histogram';
import { SeededRandom } from '../../../core/training/trees/random';
import { TrainingMemory } from '../../../core/training/trees/training-memory';

/** Bin codes of `columns` features with 2…256 bins each, column-major, and their bin offsets. */
function codesAndOffsets(random: SeededRandom, rows: number, columns: number) {
  const binCounts = Int32Array.from({ length: columns }, (_, feature) => [2, 5, 256, 17, 130, 3, 256][feature % 7]);
  const binOffsets = new Int32Array(columns + 1);
  for (let feature = 0; feature < columns; feature++) binOffsets[feature + 1] = binOffsets[feature] + binCounts[feature];
  const codes = new Uint8Array(rows * columns);
  for (let feature = 0; feature < columns; feature++) for (let row = 0; row < rows; row++) codes[feature * rows + row] = random.nextInt(binCounts[feature]);
  return { codes, binOffsets };
}

function gradientPairs(random: SeededRandom, rows: number): Float32Array {
  const pairs = new Float32Array(2 * rows);
  for (let row = 0; row < rows; row++) {
    pairs[2 * row] = random.nextFloat() * 2 - 1;
    pairs[2 * row + 1] = random.nextFloat() * 0.25 + 1e-6;
  }
  return pairs;
}

const identical = (a: Float64Array, b: Float64Array): boolean => a.length === b.length && a.every((value, index) => Object.is(value, b[index]));

describe('WebAssembly histogram kernels', () => {
  const rows = 3001;
  const columns = 23; // passes of 8, 4 and single features all run
  const random = new SeededRandom(11);
  const { codes, binOffsets } = codesAndOffsets(random, rows, columns);
  const pairs = [gradientPairs(random, rows), gradientPairs(random, rows), gradientPairs(random, rows)] as const;
  const memory = TrainingMemory.create();
  const inMemory = { codes: memory.copy(codes), binOffsets: memory.copy(binOffsets), pairs: pairs.map((array) => memory.copy(array)) };
  const histogramLength = binOffsets[columns] * 2;

  it('sum a node\'s rows into the same float64 bits as the JavaScript kernel, for any subset of rows and features', () => {
    const rowIndices = memory.copy(Int32Array.from({ length: rows }, (_, row) => row).filter(() => random.nextFloat() < 0.4));
    const features = Int32Array.from([0, 2, 3, 5, 6, 7, 9, 10, 11, 12, 13, 14, 16, 18, 20, 22]);
    for (const [start, end, count] of [[0, rowIndices.length, features.length], [17, 400, 13], [5, 6, 1], [9, 9, 7]]) {
      const expected = new Float64Array(histogramLength);
      const actual = memory.float64(histogramLength);
      const source = { codes, rows, binOffsets, rowIndices, start, end, features, featureCount: count };
      accumulateGradientPairs(source, pairs[1], expected);
      const used = memory.kernels.accumulateGradientPairs({ ...source, codes: inMemory.codes, binOffsets: inMemory.binOffsets }, inMemory.pairs[1], actual);
      expect(used).toBe(true);
      expect(identical(actual, expected), `rows ${start}…${end}, ${count} features`).toBe(true);
    }
  });

  it('build three classes\' root histograms into the same bits as the JavaScript kernel', () => {
    const features = Int32Array.from({ length: columns }, (_, feature) => feature);
    const expected = [0, 1, 2].map(() => new Float64Array(histogramLength)) as [Float64Array, Float64Array, Float64Array];
    const actual = [0, 1, 2].map(() => memory.float64(histogramLength)) as [Float64Array, Float64Array, Float64Array];
    accumulateThreeClassRootPairs(codes, rows, binOffsets, features, columns, pairs, expected);
    const [first, second, third] = inMemory.pairs;
    expect(memory.kernels.accumulateThreeClassRootPairs(inMemory.codes, rows, inMemory.binOffsets, features, columns, [first, second, third], actual)).toBe(true);
    for (let label = 0; label < 3; label++) expect(identical(actual[label], expected[label])).toBe(true);
  });

  it('partition a segment of rows stably: codes <= bin first, each side in its order', () => {
    const feature = 2;
    const rowIndices = memory.copy(Int32Array.from({ length: rows }, (_, row) => row).filter(() => random.nextFloat() < 0.7));
    const scratch = memory.int32(rows);
    const [start, end, bin] = [13, rowIndices.length - 20, 101];
    const segment = Array.from(rowIndices.subarray(start, end));
    const code = (row: number): number => codes[feature * rows + row];
    const expected = [...segment.filter((row) => code(row) <= bin), ...segment.filter((row) => code(row) > bin)];
    const before = Array.from(rowIndices);
    const middle = memory.kernels.partition(inMemory.codes, rowIndices, start, end, feature * rows, bin, scratch);
    expect(middle).toBe(start + segment.filter((row) => code(row) <= bin).length);
    expect(Array.from(rowIndices.subarray(start, end))).toEqual(expected);
    expect(Array.from(rowIndices.subarray(0, start))).toEqual(before.slice(0, start));
    expect(Array.from(rowIndices.subarray(end))).toEqual(before.slice(end));
  });

  it('leave arrays outside their memory to the JavaScript kernel', () => {
    const histogram = new Float64Array(histogramLength);
    const rowIndices = memory.copy(Int32Array.from([0, 1, 2]));
    const source = { codes: inMemory.codes, rows, binOffsets: inMemory.binOffsets, rowIndices, start: 0, end: 3, features: Int32Array.from([0]), featureCount: 1 };
    expect(memory.kernels.accumulateGradientPairs(source, inMemory.pairs[0], histogram)).toBe(false);
    expect(histogram.every((value) => value === 0)).toBe(true);
    expect(memory.kernels.partition(inMemory.codes, Int32Array.from([0, 1, 2]), 0, 3, 0, 1, memory.int32(3))).toBe(-1);
  });
});

describe('TrainingMemory', () => {
  it('hands out zeroed, 64-byte aligned arrays that stay valid as it grows, and starts over on reset', () => {
    const memory = TrainingMemory.create(65_536);
    const first = memory.float64(10);
    first.fill(7);
    const big = memory.uint8(5_000_000);
    expect(memory.memory.buffer.byteLength).toBeGreaterThanOrEqual(5_000_000);
    expect(first.every((value) => value === 7)).toBe(true);
    expect(first.byteOffset % 64).toBe(0);
    expect(big.byteOffset % 64).toBe(0);
    expect(memory.contains(first) && memory.contains(big)).toBe(true);
    expect(memory.contains(new Float64Array(1))).toBe(false);
    const epoch = memory.epoch;
    memory.reset();
    expect(memory.epoch).toBe(epoch + 1);
    const again = memory.float64(10);
    expect(again.byteOffset).toBe(first.byteOffset);
    expect(again.every((value) => value === 0)).toBe(true);
  });
});
