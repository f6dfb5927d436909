import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINE_TOLERANCE } from '../../core/onnx/row-scorer';
import { CLASS_COUNT, ServedModel, type InferenceSettings } from '../../server/models/served-model';
import { DEFAULT_REQUEST_LIMITS } from '../../server/schemas';
import { servedModelFixture, type ServedModelFixture } from '../helpers/served-model';

const settings = (engine: InferenceSettings['engine']): InferenceSettings => ({
  workers: 1,
  intraOpThreads: 1,
  interOpThreads: 1,
  maxBatchBytes: 1 << 20,
  maxQueuedRequests: 1000,
  maxQueuedBytes: 1 << 26,
  maxInFlightBatchesPerWorker: 2,
  latencyBudgetMs: 60_000,
  limits: DEFAULT_REQUEST_LIMITS,
  engine,
});

/** Every held-out basket's probabilities and label, through the model's workers. */
async function predictAll(model: ServedModel, fixture: ServedModelFixture): Promise<{ probabilities: Float32Array; labels: Uint8Array }> {
  const body = new TextEncoder().encode(JSON.stringify({ baskets: fixture.baskets }));
  const outcome = await model.predict('batch', body, 'engines', 60_000);
  if (!outcome.ok) throw new Error(outcome.problem.detail);
  const { firstRow, rows } = outcome;
  return {
    probabilities: outcome.batchProbabilities.slice(firstRow * CLASS_COUNT, (firstRow + rows) * CLASS_COUNT),
    labels: outcome.batchLabels.slice(firstRow, firstRow + rows),
  };
}

describe('the prediction workers score with the compiled engines, as ONNX Runtime does', () => {
  let fixture: ServedModelFixture;
  beforeAll(async () => {
    fixture = await servedModelFixture();
  }, 300_000);
  afterAll(() => fixture?.remove());

  it.each([
    ['production', 'compiled-linear'],
    ['gbdt', 'compiled-trees'],
  ] as const)('%s: %s, within ENGINE_TOLERANCE of ONNX Runtime on every held-out basket, the same labels', async (alias, engine) => {
    const hooks = { monotonicNow: () => performance.now() };
    const compiled = await ServedModel.load(fixture.registry, alias, settings('auto'), hooks);
    const reference = await ServedModel.load(fixture.registry, alias, settings('onnxruntime'), hooks);
    try {
      expect(compiled.engine).toBe(engine);
      expect(compiled.engineFallbackReason).toBeUndefined();
      expect(reference.engine).toBe('onnxruntime');
      // the warm-up and the first requests are checked against ONNX Runtime; these pass the check and go on alone
      const ours = await predictAll(compiled, fixture);
      const theirs = await predictAll(reference, fixture);
      expect(ours.labels.length).toBe(fixture.baskets.length);
      let largest = 0;
      for (let index = 0; index < ours.probabilities.length; index++) largest = Math.max(largest, Math.abs(ours.probabilities[index] - theirs.probabilities[index]));
      expect(largest).toBeLessThanOrEqual(ENGINE_TOLERANCE);
      expect(Array.from(ours.labels)).toEqual(Array.from(theirs.labels));
      expect(compiled.engine).toBe(engine);
    } finally {
      await Promise.all([compiled.close(), reference.close()]);
    }
  }, 120_000);
});
