import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basketBatchFromBaskets } from '../../../core/features/basket-batch';
import { BasketFeatures, featureMatrix } from '../../../core/features/compute';
import { FEATURE_COUNT } from '../../../core/features/spec';
import { CompiledTreeEnsemble, MAX_COMPILED_DEPTH } from '../../../core/onnx/compiled-trees';
import { createRowScorer } from '../../../core/onnx/row-scorer';
import { trainLogisticRegression } from '../../../core/training/logistic-regression';
import type { TreeEnsembleIR } from '../../../core/training/model';
import { buildTree, CLASSES, gbdtEnsemble, type NodeSpec, randomForestEnsemble, singleTreeEnsemble, thresholdRows } from '../../helpers/models';
import { maxAbsDifference, runWithOnnxRuntime, testOnnxBytes } from '../../helpers/onnx';
import { servedModelFixture, type ServedModelFixture } from '../../helpers/served-model';
import { randomEnsemble, syntheticClassification } from '../../helpers/synthetic';

function compile(bytes: Uint8Array): CompiledTreeEnsemble {
  const result = CompiledTreeEnsemble.fromOnnx(bytes);
  expect(result.reason).toBeUndefined();
  return result.compiled!;
}

/** The compiled engine's probabilities against ONNX Runtime's on the same rows. */
async function expectSameAsOnnxRuntime(bytes: Uint8Array, values: Float32Array, rows: number, columns: number): Promise<Float32Array> {
  const compiled = compile(bytes).score(values, rows, columns);
  const reference = await runWithOnnxRuntime(bytes, values, rows, columns);
  expect(compiled.length).toBe(reference.probabilities.length);
  expect(maxAbsDifference(compiled, reference.probabilities)).toBeLessThanOrEqual(1e-6);
  return compiled;
}

describe('compiled tree ensembles score as ONNX Runtime does', () => {
  it('on, just above and around thresholds, with NaN, ±Infinity and -0 (x <= t left, NaN right)', async () => {
    const { values, rows } = thresholdRows();
    for (const model of [singleTreeEnsemble(), randomForestEnsemble(), gbdtEnsemble()]) await expectSameAsOnnxRuntime(testOnnxBytes(model), values, rows, 2);
  });

  it('pads leaves above the full depth: a one-level branch beside a deep one', async () => {
    const bytes = testOnnxBytes(singleTreeEnsemble());
    const compiled = compile(bytes);
    expect(compiled.depth).toBe(2);
    // x0 > 0.5 reaches the depth-1 leaf whatever x1 is
    const probabilities = await expectSameAsOnnxRuntime(bytes, Float32Array.of(0.9, -5, 0.9, 5), 2, 2);
    expect(Array.from(probabilities)).toEqual(Array.from(Float32Array.of(0.1, 0.2, 0.7, 0.1, 0.2, 0.7)));
  });

  it.each(['softmax', 'none'] as const)('random trees of depth 1 to the deepest compiled (%s), with NaN and ties, rows in and beyond blocks of 8 and 64', async (postTransform) => {
    const data = syntheticClassification({ rows: 1_003, columns: 8, classes: 3, seed: 5, signal: 1 });
    // coarse values: many rows sit on a threshold; the trees are grown on them, then NaN is sprinkled in
    const coarse = Float32Array.from(data.values, (value) => Math.round(value * 4) / 4);
    const values = Float32Array.from(coarse, (value, index) => (index % 97 === 0 ? Number.NaN : value));
    for (const depth of [1, 3, 6, MAX_COMPILED_DEPTH]) {
      const model = randomEnsemble({ ...data, values: coarse }, { trees: 30, depth, seed: 17 + depth, postTransform });
      await expectSameAsOnnxRuntime(testOnnxBytes(model), values, data.rows, data.columns);
      // a remainder that is not a multiple of the 8-row walk
      await expectSameAsOnnxRuntime(testOnnxBytes(model), values.subarray(0, 13 * data.columns), 13, data.columns);
    }
  });

  describe('the served GBDT (trained on the real sample) on real baskets', () => {
    let fixture: ServedModelFixture;
    beforeAll(async () => {
      fixture = await servedModelFixture();
    });
    afterAll(() => fixture.remove());

    it('equals ONNX Runtime on every held-out basket', async () => {
      const bytes = await fixture.registry.getModelBytes(fixture.versions.gbdt);
      const values = featureMatrix(new BasketFeatures(fixture.statistics), basketBatchFromBaskets(fixture.baskets));
      await expectSameAsOnnxRuntime(bytes, values, fixture.baskets.length, FEATURE_COUNT);
      const scorer = await createRowScorer(bytes, FEATURE_COUNT);
      expect(scorer.engine).toBe('compiled-trees');
      await scorer.release();
    });

    it('scores a basket alone (the API, one row a call) exactly as in a block of rows (batch scoring, eight rows a walk)', async () => {
      const compiled = compile(await fixture.registry.getModelBytes(fixture.versions.gbdt));
      const rows = 64;
      const values = featureMatrix(new BasketFeatures(fixture.statistics), basketBatchFromBaskets(fixture.baskets.slice(0, rows)));
      const together = compiled.score(values, rows, FEATURE_COUNT);
      const alone = new Float32Array(together.length);
      for (let row = 0; row < rows; row++) alone.set(compiled.score(values.subarray(row * FEATURE_COUNT, (row + 1) * FEATURE_COUNT), 1, FEATURE_COUNT), row * CLASSES.length);
      expect(Array.from(alone)).toEqual(Array.from(together));
    });
  });
});

describe('what is not compiled goes to ONNX Runtime, with the reason', () => {
  const data = syntheticClassification({ rows: 300, columns: 4, classes: 3, seed: 3, signal: 1 });

  it('trees deeper than the compiled layout', async () => {
    // a chain: node 2k splits x[k % 4] <= k/10 into a leaf (2k + 1) and the next split (2k + 2)
    const depth = MAX_COMPILED_DEPTH + 1;
    const nodes: NodeSpec[] = [];
    for (let level = 0; level < depth; level++) {
      nodes.push({ split: [level % 4, level / 10, 2 * level + 1, 2 * level + 2] });
      nodes.push({ leaf: [level, 1, 0] });
    }
    nodes.push({ leaf: [0, 0, 5] });
    const deep: TreeEnsembleIR = { kind: 'trees', classes: CLASSES, featureCount: 4, trees: [buildTree(nodes)], baseValues: new Float32Array(3), postTransform: 'softmax' };
    const bytes = testOnnxBytes(deep);
    expect(CompiledTreeEnsemble.fromOnnx(bytes).reason).toMatch(/deeper than 10 levels/);
    const scorer = await createRowScorer(bytes, 4);
    expect(scorer.engine).toBe('onnxruntime');
    const reference = await runWithOnnxRuntime(bytes, data.values, data.rows, 4);
    expect(Array.from(await scorer.score(data.values, data.rows))).toEqual(Array.from(reference.probabilities));
    await scorer.release();
    // one level less is compiled, and agrees
    const shallow: TreeEnsembleIR = { ...deep, trees: [buildTree([...nodes.slice(0, 2 * (depth - 1)), { leaf: [0, 0, 5] }])] };
    expect(compile(testOnnxBytes(shallow)).depth).toBe(MAX_COMPILED_DEPTH);
    await expectSameAsOnnxRuntime(testOnnxBytes(shallow), data.values, data.rows, 4);
  });

  it('linear models are no tree ensembles (compiled-linear.ts compiles them)', async () => {
    const { model } = trainLogisticRegression(data, CLASSES);
    const bytes = testOnnxBytes(model);
    expect(CompiledTreeEnsemble.fromOnnx(bytes).reason).toMatch(/LinearClassifier is not a TreeEnsembleClassifier/);
    const scorer = await createRowScorer(bytes, 4);
    expect(scorer.engine).toBe('compiled-linear');
    await scorer.release();
  });

  it('`onnxruntime` always uses ONNX Runtime', async () => {
    const scorer = await createRowScorer(testOnnxBytes(gbdtEnsemble()), 2, { engine: 'onnxruntime' });
    expect(scorer.engine).toBe('onnxruntime');
    expect(scorer.fallbackReason).toBeUndefined();
    await scorer.release();
  });
});
