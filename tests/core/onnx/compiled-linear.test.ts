import { describe, expect, it } from 'vitest';
import { CompiledLinearClassifier } from '../../../core/onnx/compiled-linear';
import { createCheckedRowScorer, ENGINE_TOLERANCE } from '../../../core/onnx/row-scorer';
import { trainLogisticRegression } from '../../../core/training/logistic-regression';
import { CLASSES, gbdtEnsemble } from '../../helpers/models';
import { maxAbsDifference, runWithOnnxRuntime, testOnnxBytes } from '../../helpers/onnx';
import { syntheticClassification } from '../../helpers/synthetic';

describe('the compiled linear classifier scores as ONNX Runtime does', () => {
  // wide spreads of scale and offset: large logits, where softmax's overflow guard matters
  const data = syntheticClassification({ rows: 2_001, columns: 12, classes: 3, seed: 11, signal: 2, scaleSpread: 2, offsetSpread: 3 });
  const bytes = testOnnxBytes(trainLogisticRegression(data, CLASSES).model);

  it('on random rows, extreme values, NaN and ±Infinity', async () => {
    const values = Float32Array.from(data.values, (value, index) => {
      if (index % 211 === 0) return Number.NaN;
      if (index % 223 === 0) return index % 2 === 0 ? Infinity : -Infinity;
      if (index % 101 === 0) return value * 1e6;
      return value;
    });
    const compiled = CompiledLinearClassifier.fromOnnx(bytes).compiled!;
    expect(compiled.featureCount).toBe(12);
    const probabilities = compiled.score(values, data.rows, 12);
    const reference = await runWithOnnxRuntime(bytes, values, data.rows, 12);
    // NaN where ONNX Runtime gives NaN, and within the tolerance elsewhere
    expect(probabilities.map((value) => (Number.isNaN(value) ? 1 : 0))).toEqual(reference.probabilities.map((value) => (Number.isNaN(value) ? 1 : 0)));
    const finite = (array: Float32Array) => array.map((value) => (Number.isNaN(value) ? 0 : value));
    expect(maxAbsDifference(finite(probabilities), finite(reference.probabilities))).toBeLessThanOrEqual(ENGINE_TOLERANCE);
  });

  it('leaves tree ensembles to the tree engine, with the reason', () => {
    expect(CompiledLinearClassifier.fromOnnx(testOnnxBytes(gbdtEnsemble())).reason).toMatch(/is not a LinearClassifier/);
  });

  it('a checked scorer compares the first rows with ONNX Runtime, then scores alone', async () => {
    const scorer = await createCheckedRowScorer(bytes, 12, { verifyRows: 500 });
    expect(scorer.engine).toBe('compiled-linear');
    const reference = await runWithOnnxRuntime(bytes, data.values, data.rows, 12);
    for (let start = 0; start < data.rows; start += 300) {
      const rows = Math.min(300, data.rows - start);
      const probabilities = await scorer.score(data.values.subarray(start * 12), rows);
      expect(maxAbsDifference(probabilities, reference.probabilities.subarray(start * 3, (start + rows) * 3))).toBeLessThanOrEqual(ENGINE_TOLERANCE);
    }
    expect(scorer.verifiedRows).toBe(500);
    expect(scorer.maxDifference).toBeLessThanOrEqual(ENGINE_TOLERANCE);
    expect(scorer.engine).toBe('compiled-linear');
    await scorer.release();
  });

  it('a checked scorer whose compiled engine disagrees answers with ONNX Runtime from then on, and says why', async () => {
    const reasons: string[] = [];
    // a tolerance no float engine meets: any rounding difference is a disagreement
    const scorer = await createCheckedRowScorer(bytes, 12, { verifyRows: 100, tolerance: -1, onFallback: (reason) => reasons.push(reason) });
    const reference = await runWithOnnxRuntime(bytes, data.values, data.rows, 12);
    const first = await scorer.score(data.values, 300);
    expect(Array.from(first)).toEqual(Array.from(reference.probabilities.subarray(0, 900)));
    expect(scorer.engine).toBe('onnxruntime');
    expect(scorer.fallbackReason).toMatch(/compiled-linear engine differs from ONNX Runtime/);
    expect(reasons).toHaveLength(1);
    const next = await scorer.score(data.values.subarray(300 * 12), 50);
    expect(Array.from(next)).toEqual(Array.from(reference.probabilities.subarray(900, 1050)));
    await scorer.release();
  });
});
