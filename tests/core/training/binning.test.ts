import { describe, expect, it } from 'vitest';
import { BIN_ALIGNMENT, binFeatureMatrix, fitFeatureBinning } from '../../../core/training/trees/binning';
import { binTrainingMatrix } from '../../../core/training/trees/binning-tasks';
import { SeededRandom } from '../../../core/training/trees/random';
import { TreeThreadPool } from '../../../core/training/trees/thread-pool';

function columnValues(rows: number, columns: number, draw: (random: SeededRandom, row: number, column: number) => number): Float32Array {
  const random = new SeededRandom(7);
  const values = new Float32Array(rows * columns);
  for (let row = 0; row < rows; row++) for (let column = 0; column < columns; column++) values[row * columns + column] = draw(random, row, column);
  return values;
}

describe('quantile binning', () => {
  it('puts every value in the bin its float32 upper bounds say: code <= b exactly when x <= upperBound[b]', () => {
    const rows = 6000;
    const columns = 4;
    // ties, integers, negative and signed zeros, a wide continuous range, and values sitting exactly on cuts
    const values = columnValues(rows, columns, (random, row, column) => {
      switch (column) {
        case 0: return random.nextInt(20) - 5;
        case 1: return (random.nextFloat() - 0.5) * 1e6;
        case 2: return row % 3 === 0 ? -0 : row % 3 === 1 ? 0 : random.nextFloat() - 0.5;
        default: return Math.exp(8 * random.nextFloat()) * 1e-3;
      }
    });
    const binning = fitFeatureBinning(values, rows, columns, { maxBin: 32, sampleRows: 2000, seed: 3 });
    const binned = binFeatureMatrix(values, rows, columns, binning);
    let onBoundary = 0;
    let disagreements = 0;
    for (let column = 0; column < columns; column++) {
      const offset = binning.binOffsets[column];
      expect(binning.binCounts[column]).toBeLessThanOrEqual(32);
      for (let row = 0; row < rows; row++) {
        const value = values[row * columns + column];
        const code = binned.codes[column * rows + row];
        for (let bin = 0; bin < binning.binCounts[column] - 1; bin++) {
          const bound = binning.upperBounds[offset + bin];
          if (value === bound) onBoundary++;
          if (code <= bin !== value <= bound) disagreements++;
        }
      }
    }
    expect(disagreements).toBe(0);
    expect(onBoundary).toBeGreaterThan(100);
  });

  it('gives each of few distinct values its own bin, cut at the value itself', () => {
    const values = Float32Array.from([3, 1, 2, 2, 1, 3, 3]);
    const binning = fitFeatureBinning(values, 7, 1, { maxBin: 256, sampleRows: 100, seed: 0 });
    expect(binning.binCounts[0]).toBe(3);
    expect(Array.from(binning.upperBounds.subarray(0, 3))).toEqual([1, 2, Number.POSITIVE_INFINITY]);
    expect(Array.from(binFeatureMatrix(values, 7, 1, binning).codes)).toEqual([2, 0, 1, 1, 0, 2, 2]);
  });

  it('starts every feature\'s bins on a whole 64-byte line of a histogram (padding bins are never a split)', () => {
    const values = Float32Array.from([1, 0, 5, 1, 1, 7, 0, 0, 9]);
    const binning = fitFeatureBinning(values, 3, 3, { maxBin: 256, sampleRows: 100, seed: 0 });
    expect(Array.from(binning.binCounts)).toEqual([2, 2, 3]);
    expect(Array.from(binning.binOffsets)).toEqual([0, BIN_ALIGNMENT, 2 * BIN_ALIGNMENT, 3 * BIN_ALIGNMENT]);
    expect(Number.isNaN(binning.upperBounds[2])).toBe(true);
    expect(Array.from(binFeatureMatrix(values, 3, 3, binning).codes)).toEqual([1, 1, 0, 0, 1, 0, 0, 1, 2]);
  });

  it('caps the bins at maxBin with roughly equal counts', () => {
    const rows = 20_000;
    const values = columnValues(rows, 1, (random) => random.nextFloat() ** 3);
    const binning = fitFeatureBinning(values, rows, 1, { maxBin: 16, sampleRows: rows, seed: 0 });
    expect(binning.binCounts[0]).toBe(16);
    const counts = new Array<number>(16).fill(0);
    for (const code of binFeatureMatrix(values, rows, 1, binning).codes) counts[code]++;
    for (const count of counts) {
      expect(count).toBeGreaterThan(rows / 16 / 2);
      expect(count).toBeLessThan((rows / 16) * 1.5);
    }
  });

  it('gives NaN a bin of its own after the real bins, split off by +Infinity', () => {
    const values = Float32Array.from([1, Number.NaN, 2, 3, Number.NaN, 2]);
    const binning = fitFeatureBinning(values, 6, 1, { maxBin: 256, sampleRows: 100, seed: 0 });
    expect(binning.binCounts[0]).toBe(4);
    expect(binning.missingBins[0]).toBe(3);
    expect(binning.upperBounds[2]).toBe(Number.POSITIVE_INFINITY);
    expect(Array.from(binFeatureMatrix(values, 6, 1, binning).codes)).toEqual([0, 3, 1, 2, 3, 1]);
    // a feature without NaN in training sends a later NaN to its last real bin, which every split sends right
    const clean = fitFeatureBinning(Float32Array.from([1, 2, 3]), 3, 1, { maxBin: 256, sampleRows: 100, seed: 0 });
    expect(binFeatureMatrix(Float32Array.from([Number.NaN]), 1, 1, clean).codes[0]).toBe(2);
  });

  it('samples the rows for the cuts deterministically per seed', () => {
    const rows = 5000;
    const values = columnValues(rows, 2, (random) => random.nextFloat());
    const first = fitFeatureBinning(values, rows, 2, { maxBin: 64, sampleRows: 500, seed: 11 });
    const again = fitFeatureBinning(values, rows, 2, { maxBin: 64, sampleRows: 500, seed: 11 });
    const other = fitFeatureBinning(values, rows, 2, { maxBin: 64, sampleRows: 500, seed: 12 });
    expect(Array.from(again.upperBounds)).toEqual(Array.from(first.upperBounds));
    expect(Array.from(other.upperBounds)).not.toEqual(Array.from(first.upperBounds));
  });

  it('bins a training matrix on threads exactly as on one thread (cuts by features, codes by rows not a multiple of the row blocks)', async () => {
    const rows = 5003;
    const columns = 7;
    const values = columnValues(rows, columns, (random, row, column) => {
      switch (column) {
        case 0: return random.nextFloat() < 0.1 ? Number.NaN : random.nextFloat();
        case 1: return random.nextInt(4);
        case 2: return row % 2 === 0 ? -0 : (random.nextFloat() - 0.5) * 1e4;
        default: return Math.exp(6 * random.nextFloat()) * (column - 4);
      }
    });
    const settings = { maxBin: 64, sampleRows: 3000, seed: 5 };
    const alone = binFeatureMatrix(values, rows, columns, fitFeatureBinning(values, rows, columns, settings));
    for (const threads of [2, 3]) {
      const pool = await TreeThreadPool.start({ threads });
      try {
        const shared = binTrainingMatrix(values, rows, columns, settings, pool.memory, pool);
        expect(pool.memory.contains(shared.codes)).toBe(true);
        expect(Buffer.from(shared.codes).equals(Buffer.from(alone.codes))).toBe(true);
        for (const key of ['binCounts', 'binOffsets', 'missingBins', 'upperBounds'] as const) expect(Array.from(shared.binning[key]), key).toEqual(Array.from(alone.binning[key]));
        expect(shared.binning.missingBins[0]).toBeGreaterThan(0);
      } finally {
        pool.release();
        await pool.close();
      }
    }
  });
});
