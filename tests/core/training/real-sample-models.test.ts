import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeMetrics } from '../../../core/evaluation/metrics';
import { FEATURE_COUNT, FEATURE_SPEC } from '../../../core/features/spec';
import { heldOutFeatures, outOfFoldFeatures } from '../../../core/features/training-matrix';
import { readGoldBaskets } from '../../../core/lake/gold-reader';
import { ingest } from '../../../core/lake/ingest';
import { Lake } from '../../../core/lake/lake';
import { exportOnnx } from '../../../core/onnx/export';
import { PRICE_SENSITIVITY_CLASSES } from '../../../core/schema/lgsr';
import type { ModelIR } from '../../../core/training/model';
import { modelProbabilities } from '../../../core/training/model-outputs';
import { IN_PROCESS_TRAINERS } from '../../../core/training/trainers';
import { checkWithOnnxChecker, maxAbsDifference, onnxCheckerAvailable, runWithOnnxRuntime } from '../../helpers/onnx';
import { SAMPLE_FILES, temporaryDirectory } from '../../helpers/paths';

/** Smaller settings than the defaults, to keep the suite quick; the export path is the same. */
const QUICK: Record<string, Record<string, number>> = { rf: { treeCount: 15 }, gbdt: { rounds: 60 } };

describe('every algorithm on the real sample: trained in-process, exported, run by ONNX Runtime', () => {
  const scratch = temporaryDirectory();
  const models: Record<string, { ir: ModelIR; onnx: Uint8Array }> = {};
  let testValues: Float32Array;
  let testLabels: Int32Array;
  let testRows = 0;

  beforeAll(async () => {
    await ingest({ inputs: SAMPLE_FILES, lake: path.join(scratch.path, 'lake') });
    const { batch } = await readGoldBaskets(await Lake.open(path.join(scratch.path, 'lake')));
    const all = Int32Array.from({ length: batch.size }, (_, index) => index);
    const train = all.filter((row) => batch.label[row] >= 0 && batch.week[row] !== 200611);
    const test = all.filter((row) => batch.label[row] >= 0 && batch.week[row] === 200611);
    const fitted = outOfFoldFeatures(batch, train);
    testValues = heldOutFeatures(fitted.statistics, batch, test);
    testRows = test.length;
    testLabels = Int32Array.from(test, (row) => batch.label[row]);
    for (const [algorithm, trainer] of Object.entries(IN_PROCESS_TRAINERS)) {
      const { model } = trainer.train({
        train: { rows: train.length, columns: FEATURE_COUNT, values: fitted.values, labels: Int32Array.from(train, (row) => batch.label[row]) },
        classes: PRICE_SENSITIVITY_CLASSES,
        hyperparameters: { ...trainer.defaults, ...QUICK[algorithm] },
        seed: 7,
      });
      const onnx = exportOnnx(model, { featureSpecVersion: FEATURE_SPEC.version, featureSpecHash: FEATURE_SPEC.hash, featureNames: FEATURE_SPEC.names, algorithm });
      models[algorithm] = { ir: model, onnx };
    }
  });
  afterAll(() => scratch.remove());

  for (const algorithm of ['lr', 'dt', 'rf', 'gbdt']) {
    it(`${algorithm}: ONNX Runtime's probabilities equal the in-process predictor's to 1e-5 on every held-out basket`, async () => {
      const { ir, onnx } = models[algorithm];
      const expected = modelProbabilities(ir, testValues, testRows);
      const actual = await runWithOnnxRuntime(onnx, testValues, testRows, FEATURE_COUNT);
      expect(maxAbsDifference(actual.probabilities, expected)).toBeLessThan(1e-5);
      expect(testRows).toBeGreaterThan(3_000);
    });
  }

  it('gbdt and rf reach accuracy and macro-F1 ≥ 0.91 on the held-out week (the price tiers carry it: context and label shares alone gave 0.88)', () => {
    for (const algorithm of ['gbdt', 'rf']) {
      const metrics = computeMetrics(testLabels, modelProbabilities(models[algorithm].ir, testValues, testRows), PRICE_SENSITIVITY_CLASSES);
      expect(metrics.accuracy, algorithm).toBeGreaterThanOrEqual(0.91);
      expect(metrics.macroF1, algorithm).toBeGreaterThanOrEqual(0.91);
    }
  });

  it.skipIf(!onnxCheckerAvailable() && !process.env.CI)('every exported model passes onnx.checker.check_model(full_check=True)', () => {
    const result = checkWithOnnxChecker(Object.fromEntries(Object.entries(models).map(([algorithm, { onnx }]) => [algorithm, onnx])));
    expect(result.status, result.report).toBe(0);
    expect(result.report.match(/^ok /gm)).toHaveLength(4);
  });
});
