import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RetailMlopsError } from '../../../core/errors';
import { FEATURE_SPEC } from '../../../core/features/spec';
import { readOnnxMetadata } from '../../../core/onnx/metadata';
import { importXGBoostModel, nextFloat32Down, parseXGBoostModel, xgboostToTreeEnsemble } from '../../../core/onnx/xgboost-import';
import { PRICE_SENSITIVITY_CLASSES } from '../../../core/schema/lgsr';
import { modelOutputs } from '../../../core/training/model-outputs';
import { checkWithOnnxChecker, maxAbsDifference, onnxCheckerAvailable, runWithOnnxRuntime } from '../../helpers/onnx';
import { temporaryDirectory } from '../../helpers/paths';
import { ingestSample, sampleFeatures, type SampleFeatures } from '../../helpers/sample-features';
import { seededRandom } from '../../helpers/synthetic';
import { predictWithXGBoost, trainWithXGBoost, xgboostUnavailableReason, type XGBoostTrainingOutput } from '../../helpers/xgboost';

const TOLERANCE = 1e-5;
const CLASSES = [...PRICE_SENSITIVITY_CLASSES];
const unavailable = xgboostUnavailableReason();
if (unavailable) console.warn(`SKIPPED the XGBoost importer tests against real XGBoost: ${unavailable}`);

function codeOf(error: unknown): string | undefined {
  return RetailMlopsError.isInstance(error) ? error.code : undefined;
}

function metadata(featureCount: number): Parameters<typeof importXGBoostModel>[1]['metadata'] {
  return {
    featureSpecVersion: FEATURE_SPEC.version,
    featureSpecHash: FEATURE_SPEC.hash,
    featureNames: featureCount === FEATURE_SPEC.names.length ? FEATURE_SPEC.names : Array.from({ length: featureCount }, (_, index) => `f${index}`),
    algorithm: 'sagemaker-xgboost',
  };
}

describe('nextFloat32Down: x < t ⟺ x <= nextFloat32Down(t) for float32 x', () => {
  it('steps one ulp down on both sides of zero, at zero, and at the extremes', () => {
    const bits = (value: number): number => new Uint32Array(Float32Array.of(value).buffer)[0];
    expect(bits(nextFloat32Down(1))).toBe(bits(1) - 1);
    expect(bits(nextFloat32Down(-1))).toBe(bits(-1) + 1);
    expect(nextFloat32Down(0)).toBe(-1.401298464324817e-45);
    expect(nextFloat32Down(-0)).toBe(-1.401298464324817e-45);
    expect(nextFloat32Down(1.401298464324817e-45)).toBe(0);
    expect(nextFloat32Down(Infinity)).toBe(3.4028234663852886e38);
    expect(nextFloat32Down(-Infinity)).toBe(-Infinity);
    expect(Number.isNaN(nextFloat32Down(NaN))).toBe(true);
  });

  it('agrees with `<` on random float32 pairs, ties included', () => {
    const random = seededRandom(5);
    for (let index = 0; index < 20_000; index++) {
      const threshold = Math.fround((random() - 0.5) * 10 ** Math.floor(random() * 8 - 4));
      const candidates = [threshold, nextFloat32Down(threshold), Math.fround(threshold * (1 + 1e-7)), Math.fround((random() - 0.5) * 4)];
      for (const x of candidates) expect(x <= nextFloat32Down(threshold)).toBe(x < threshold);
    }
  });
});

describe('parsing refuses what it cannot import, with stable codes', () => {
  it('rejects garbage, UBJSON, truncated binaries and unsupported objectives', () => {
    expect(codeOf(catchError(() => parseXGBoostModel(new Uint8Array([1, 2, 3]))))).toBe('XGBOOST_MODEL_INVALID');
    expect(codeOf(catchError(() => parseXGBoostModel(Buffer.from('{L\x00\x00\x00\x00\x00\x00\x00\x07learner'))))).toBe('XGBOOST_MODEL_INVALID');
    expect(codeOf(catchError(() => parseXGBoostModel(Buffer.from('{"learner": 3'))))).toBe('XGBOOST_MODEL_INVALID');
    const binary = Buffer.concat([Buffer.from('binf'), Buffer.alloc(136), Buffer.from([6, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('multi:')]);
    expect(codeOf(catchError(() => parseXGBoostModel(binary)))).toBe('XGBOOST_MODEL_INVALID');
  });
});

function catchError(body: () => unknown): unknown {
  try {
    body();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe.skipIf(unavailable !== undefined)('XGBoost → ONNX: ONNX Runtime reproduces XGBoost 1.7 predict()', () => {
  const scratch = temporaryDirectory('xgboost-import-');
  let features: SampleFeatures;
  let trained: XGBoostTrainingOutput;

  beforeAll(async () => {
    features = await sampleFeatures(await ingestSample(scratch.path));
    trained = trainWithXGBoost({
      columns: features.columns,
      train: features.train,
      validation: features.validation,
      test: features.test.values,
      params: { objective: 'multi:softprob', num_class: 3, tree_method: 'hist', max_depth: 6, eta: 0.3, max_bin: 256, subsample: 0.9, seed: 3, nthread: 1 },
      rounds: 60,
      earlyStoppingRounds: 5,
    });
  });
  afterAll(() => scratch.remove());

  it('reads the JSON and the legacy binary file (what SageMaker 1.7-1 writes) into the same model', () => {
    const json = parseXGBoostModel(trained.json);
    const binary = parseXGBoostModel(trained.binary);
    expect(Buffer.from(trained.binary.subarray(0, 4)).toString('latin1')).toBe('binf');
    expect([json.format, binary.format]).toEqual(['json', 'binary']);
    expect(binary.objective).toBe('multi:softprob');
    expect(binary.numClass).toBe(3);
    expect(binary.numFeature).toBe(features.columns);
    expect(binary.baseScore).toBe(json.baseScore);
    expect(binary.trees.length).toBe(json.trees.length);
    expect(Array.from(binary.treeClasses)).toEqual(Array.from(json.treeClasses));
    expect(binary.attributes.best_iteration).toBe(json.attributes.best_iteration);
    const fromJson = xgboostToTreeEnsemble(json, { classes: CLASSES, rounds: 'best' });
    const fromBinary = xgboostToTreeEnsemble(binary, { classes: CLASSES, rounds: 'best' });
    expect(fromBinary.trees.length).toBe(fromJson.trees.length);
    fromJson.trees.forEach((tree, index) => {
      const other = fromBinary.trees[index];
      expect(Array.from(other.feature)).toEqual(Array.from(tree.feature));
      expect(Array.from(other.threshold)).toEqual(Array.from(tree.threshold));
      expect(Array.from(other.left)).toEqual(Array.from(tree.left));
      expect(Array.from(other.value)).toEqual(Array.from(tree.value));
    });
  });

  it('matches modelOutputs() to 1e-5 on real held-out features, both for the early-stopping model and for all rounds', async () => {
    expect(trained.bestIteration).not.toBeNull();
    for (const [rounds, expected] of [['best', trained.bestProbabilities], [1000, trained.probabilities]] as const) {
      for (const file of [trained.json, trained.binary]) {
        const imported = importXGBoostModel(file, { classes: CLASSES, rounds, metadata: metadata(features.columns) });
        const fromOrt = await runWithOnnxRuntime(imported.onnx, features.test.values, features.test.rows, features.columns);
        expect(maxAbsDifference(fromOrt.probabilities, expected)).toBeLessThanOrEqual(TOLERANCE);
        // the in-process predictor (used for evaluation) agrees too
        const inProcess = modelOutputs(imported.model, features.test.values, features.test.rows);
        expect(maxAbsDifference(inProcess.probabilities, expected)).toBeLessThanOrEqual(TOLERANCE);
      }
    }
    const best = importXGBoostModel(trained.binary, { classes: CLASSES, metadata: metadata(features.columns) });
    expect(best.rounds.kept).toBe(trained.bestIteration! + 1);
    expect(best.rounds.available).toBeGreaterThan(best.rounds.kept);
    expect(readOnnxMetadata(best.onnx)).toMatchObject({ classLabels: CLASSES, algorithm: 'sagemaker-xgboost', featureSpecHash: FEATURE_SPEC.hash });
  });

  it('routes rows that sit exactly on a threshold as XGBoost does (x < t left), including a threshold of 0', async () => {
    // Force some roots' thresholds onto values the rows hold (0, 1, 0.5), and let XGBoost itself predict.
    const parsed = parseXGBoostModel(trained.json);
    const forced = [0, 1, 0.5];
    const rows = 64;
    const values = features.test.values.slice(0, rows * features.columns);
    const edits = parsed.trees
      .slice(0, 12)
      .map((tree, treeIndex) => ({ tree: treeIndex, node: 0, value: forced[treeIndex % 3], feature: tree.splitIndices[0] }));
    const onAndAround = [0, -0, 1, 0.5, nextFloat32Down(0), nextFloat32Down(1), nextFloat32Down(0.5), 1.401298464324817e-45];
    for (const edit of edits) {
      for (let row = 0; row < rows; row++) values[row * features.columns + edit.feature] = onAndAround[(row + edit.tree) % onAndAround.length];
    }
    const { model: edited, probabilities: expected } = predictWithXGBoost(trained.json, values, features.columns, edits);
    const imported = importXGBoostModel(edited, { classes: CLASSES, rounds: 1000, metadata: metadata(features.columns) });
    expect(imported.model.trees[0].threshold[0]).toBe(nextFloat32Down(0));
    const fromOrt = await runWithOnnxRuntime(imported.onnx, values, rows, features.columns);
    expect(maxAbsDifference(fromOrt.probabilities, expected)).toBeLessThanOrEqual(TOLERANCE);
  });

  it('produces models the ONNX checker accepts', () => {
    if (!onnxCheckerAvailable()) return;
    const imported = importXGBoostModel(trained.binary, { classes: CLASSES, metadata: metadata(features.columns) });
    const { status, report } = checkWithOnnxChecker({ xgboost: imported.onnx });
    expect(status, report).toBe(0);
  });

  it('refuses models it cannot express: other objectives, other class counts, too few features', () => {
    const model = parseXGBoostModel(trained.json);
    expect(codeOf(catchError(() => xgboostToTreeEnsemble({ ...model, objective: 'binary:logistic' }, { classes: CLASSES })))).toBe('UNSUPPORTED_MODEL');
    expect(codeOf(catchError(() => xgboostToTreeEnsemble(model, { classes: ['A', 'B'] })))).toBe('UNSUPPORTED_MODEL');
    const error = catchError(() => xgboostToTreeEnsemble(model, { classes: CLASSES, featureCount: 3, rounds: 0 }));
    expect(codeOf(error)).toBe('INVALID_OPTIONS');
    expect((error as { problems: string[] }).problems).toHaveLength(2);
  });
});
