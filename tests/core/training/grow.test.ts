import { describe, expect, it } from 'vitest';
import { leafOf, noisyBlobs } from './synthetic-data';
import { binFeatureMatrix, fitFeatureBinning } from '../../../core/training/trees/binning';
import { grownTreeToIR, leafOfBinnedRow, TreeGrower, type GrowRequest } from '../../../core/training/trees/grow';
import { ClassWeightStatistics, GradientStatistics, type GrowthLimits } from '../../../core/training/trees/node-statistics';
import { SeededRandom } from '../../../core/training/trees/random';
import { allFeatures } from '../../../core/training/trees/training-data';

const limits: GrowthLimits = {
  maxDepth: 7,
  maxLeaves: Number.POSITIVE_INFINITY,
  minSamplesPerLeaf: 1,
  minChildWeight: 0,
  minSplitGain: 0,
  growPolicy: 'depthwise',
};

describe('the tree grower', () => {
  const matrix = noisyBlobs(5000, 8, 51, 0.1);
  // integer-valued columns make many rows sit exactly on thresholds
  for (let row = 0; row < matrix.rows; row++) matrix.values[row * 8 + 3] = Math.round(matrix.values[row * 8 + 3] * 4);
  const binning = fitFeatureBinning(matrix.values, matrix.rows, matrix.columns, { maxBin: 64, sampleRows: 2000, seed: 0 });
  const binned = binFeatureMatrix(matrix.values, matrix.rows, matrix.columns, binning);

  function request(statistics: GrowRequest['statistics'], overrides: Partial<GrowRequest> = {}): GrowRequest {
    const rowIndices = new Int32Array(matrix.rows);
    for (let row = 0; row < matrix.rows; row++) rowIndices[row] = row;
    return {
      statistics,
      rowIndices,
      rowCount: matrix.rows,
      treeFeatures: allFeatures(matrix.columns),
      nodeFeatureCount: matrix.columns,
      limits,
      random: new SeededRandom(1),
      ...overrides,
    };
  }

  it('grows the same tree whether a child histogram is derived by subtraction or built directly', () => {
    const weights = new Float32Array(matrix.rows).fill(1);
    const statistics = new ClassWeightStatistics(3, matrix.labels, weights, undefined);
    const grower = new TreeGrower(binned, 3);
    const toIR = (regime: 'subtraction' | 'direct') => {
      const tree = grower.grow(request(statistics, { histogramRegime: regime }));
      return grownTreeToIR(tree, binning, 3, (node, values, offset) => values.set(tree.totals.subarray(node * 3, node * 3 + 3), offset));
    };
    const subtracted = toIR('subtraction');
    const direct = toIR('direct');
    expect(subtracted.feature.length).toBeGreaterThan(50);
    expect(direct.feature).toEqual(subtracted.feature);
    expect(direct.threshold).toEqual(subtracted.threshold);
    expect(direct.value).toEqual(subtracted.value);
  });

  it('partitions rows exactly as the float32 thresholds do, and leaf totals are the sums of their rows', () => {
    const random = new SeededRandom(5);
    const pairs = new Float32Array(2 * matrix.rows);
    for (let row = 0; row < matrix.rows; row++) {
      pairs[2 * row] = (matrix.labels[row] === 1 ? -1 : 0.5) + 0.1 * random.nextFloat();
      pairs[2 * row + 1] = 0.25;
    }
    const statistics = new GradientStatistics(pairs, 1, false);
    const grown = new TreeGrower(binned, 2).grow(request(statistics, { limits: { ...limits, maxDepth: 6 } }));
    const tree = grownTreeToIR(grown, binning, 1, () => undefined);
    let disagreements = 0;
    for (let node = 0; node < grown.nodeCount; node++) {
      if (grown.feature[node] >= 0) continue;
      let gradient = 0;
      let hessian = 0;
      for (let index = grown.rowStart[node]; index < grown.rowEnd[node]; index++) {
        const row = grown.rowIndices[index];
        if (leafOf(tree, matrix.values.subarray(row * 8, row * 8 + 8)) !== node) disagreements++;
        if (leafOfBinnedRow(grown, binned.codes, matrix.rows, row) !== node) disagreements++;
        gradient += pairs[2 * row];
        hessian += pairs[2 * row + 1];
      }
      expect(grown.totals[node * 2]).toBeCloseTo(gradient, 6);
      expect(grown.totals[node * 2 + 1]).toBeCloseTo(hessian, 6);
    }
    expect(disagreements).toBe(0);
    expect(tree.feature).toContain(3);
  });

  it('never splits below the minimum hessian per child', () => {
    const pairs = new Float32Array(2 * matrix.rows);
    for (let row = 0; row < matrix.rows; row++) {
      pairs[2 * row] = matrix.labels[row] - 1;
      pairs[2 * row + 1] = 0.1;
    }
    const grown = new TreeGrower(binned, 2).grow(request(new GradientStatistics(pairs, 1, false), { limits: { ...limits, minChildWeight: 30 } }));
    for (let node = 0; node < grown.nodeCount; node++) expect(grown.totals[node * 2 + 1]).toBeGreaterThanOrEqual(30 - 1e-9);
  });
});
