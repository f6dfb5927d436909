/**
 * Model lifecycle: readiness before and after the load; hot swaps (the pinned alias moves and the
 * registry is polled, or POST /admin/reload) under concurrent requests with 0 failures; models that
 * fail a check (bad bytes, another feature spec, malformed statistics) are refused and the serving one
 * keeps serving; a service that cannot load its first model is not ready.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN, AUTHORIZED, batchScoring, createTestApp, expectProblem, sleep, type TestApp } from './harness';
import { FEATURE_SPEC } from '../../core/features/spec';
import { exportOnnx } from '../../core/onnx/export';
import type { LinearModelIR } from '../../core/training/model';
import { ModelRefusedError } from '../../server/errors';
import { ModelService } from '../../server/models/model-service';
import { exportMetadata, registerServedModel, servedModelFixture } from '../helpers/served-model';

/** A model like `model` with shifted intercepts: valid, and different bytes (a new version). */
function variantOf(model: LinearModelIR, shift: number): LinearModelIR {
  return { ...model, intercepts: model.intercepts.map((value, index) => value + (index === 0 ? shift : 0)) };
}

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(20);
  }
}

/** Clients posting baskets until stopped; every answer is recorded. */
function keepPredicting(test: TestApp, clients: number) {
  const failures: string[] = [];
  const versions = new Map<string, number>();
  let stopped = false;
  const baskets = test.fixture.baskets;
  const loops = Array.from({ length: clients }, async (_, client) => {
    for (let index = client; !stopped; index += clients) {
      const response = await test.post('/v1/predict', baskets[index % baskets.length]);
      if (response.status !== 200) {failures.push(`${response.status} ${await response.text()}`);} else {
        const { modelVersion } = (await response.json()) as { modelVersion: string };
        versions.set(modelVersion, (versions.get(modelVersion) ?? 0) + 1);
      }
    }
  });
  return {
    failures,
    versions,
    async stop() {
      stopped = true;
      await Promise.all(loops);
    },
  };
}

async function reloadCount(test: TestApp, outcome: 'loaded' | 'refused'): Promise<number> {
  const metric = await test.metricsRegistry.getSingleMetric('retail_mlops_model_reloads_total')!.get();
  return metric.values.filter((value) => value.labels.outcome === outcome).reduce((sum, value) => sum + value.value, 0);
}

describe('model lifecycle', () => {
  let test: TestApp | undefined;
  afterEach(async () => {
    await test?.close();
    test = undefined;
  });

  it('is not ready before the model is loaded and warmed, and ready after', async () => {
    test = await createTestApp({ start: false });
    await expectProblem(await test.app.request('/readyz'), 503, 'model-not-ready');
    expect((await test.app.request('/healthz')).status).toBe(200);
    await expectProblem(await test.post('/v1/predict', test.fixture.baskets[0]), 503, 'model-not-ready');
    const loading = test.models.start();
    await loading;
    const ready = await test.app.request('/readyz');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', modelVersion: test.fixture.versions.production, featureSpecVersion: FEATURE_SPEC.version });
  });

  it('swaps to the new target of the alias (polled) under concurrent requests, failing none', async () => {
    test = await createTestApp({ models: { pollIntervalMs: 100 } });
    const { registry, versions } = test.fixture;
    const load = keepPredicting(test, 16);
    await sleep(300);
    await registry.setAlias('production', versions.candidate, { actor: 'tests', reason: 'swap under load' });
    await waitFor(() => test!.models.current?.id === versions.candidate);
    await sleep(300);
    await load.stop();
    expect(load.failures).toEqual([]);
    expect([...load.versions.keys()].sort()).toEqual([versions.production, versions.candidate].sort());
    // the new model answers as batch scoring with the new model does
    const basket = test.fixture.baskets[7];
    const body = (await (await test.post('/v1/predict', basket)).json()) as { probabilities: Record<string, number>; modelVersion: string };
    expect(body.modelVersion).toBe(versions.candidate);
    const expected = batchScoring(test.fixture.models.candidate, test.fixture, [basket]);
    expect(body.probabilities.LA).toBeCloseTo(expected.probabilities[0], 5);
    expect(await reloadCount(test, 'loaded')).toBe(2);
  });

  it('swaps on POST /admin/reload under concurrent requests, failing none; reload without a change is a no-op', async () => {
    test = await createTestApp();
    const { registry, versions } = test.fixture;
    const unchanged = await test.post('/admin/reload', '', ADMIN);
    expect(await unchanged.json()).toEqual({ changed: false, modelVersion: versions.production, previousVersion: versions.production, reference: 'production' });
    const load = keepPredicting(test, 16);
    await sleep(200);
    await registry.setAlias('production', versions.candidate, { actor: 'tests', reason: 'admin swap' });
    const reload = await test.post('/admin/reload', '', ADMIN);
    expect(reload.status).toBe(200);
    expect(await reload.json()).toEqual({ changed: true, modelVersion: versions.candidate, previousVersion: versions.production, reference: 'production' });
    await sleep(200);
    await registry.setAlias('production', versions.production, { actor: 'tests', reason: 'and back' });
    // concurrent reloads share one load
    const [first, second] = await Promise.all([test.post('/admin/reload', '', ADMIN), test.post('/admin/reload', '', ADMIN)]);
    expect([first.status, second.status]).toEqual([200, 200]);
    await sleep(200);
    await load.stop();
    expect(load.failures).toEqual([]);
    expect(load.versions.get(versions.candidate)).toBeGreaterThan(0);
    expect(test.models.current?.id).toBe(versions.production);
    expect(await reloadCount(test, 'loaded')).toBe(3);
  });

  it('refuses a model whose bytes are not ONNX; the serving model keeps serving', async () => {
    test = await createTestApp();
    const { registry, versions, statistics } = test.fixture;
    const bad = await registerServedModel(registry, { model: new Uint8Array(Buffer.from('this is not an ONNX model at all')), statistics, seed: 'bad-bytes' });
    await registry.setAlias('production', bad, { actor: 'tests', reason: 'corrupt' });
    const load = keepPredicting(test, 8);
    const document = await expectProblem(await test.post('/admin/reload', '', ADMIN), 422, 'model-refused');
    expect(document.detail).toContain(`model ${bad} refused (check)`);
    await load.stop();
    expect(load.failures).toEqual([]);
    expect([...load.versions.keys()]).toEqual([versions.production]);
    expect(test.models.current?.id).toBe(versions.production);
    expect((await test.app.request('/readyz')).status).toBe(200);
    expect(await reloadCount(test, 'refused')).toBe(1);
  });

  it('refuses a model trained on another feature spec (hash), with a clear error', async () => {
    test = await createTestApp({ models: { pollIntervalMs: 50 } });
    const { registry, versions, statistics, models } = test.fixture;
    const otherSpec = exportOnnx(variantOf(models.candidate, 0.5), exportMetadata({ featureSpecHash: 'ffffffffffffffff', featureSpecVersion: '0.9.0' }));
    const mismatched = await registerServedModel(registry, { model: otherSpec, statistics, seed: 'other-spec', featureSpecHash: 'ffffffffffffffff' });
    await registry.setAlias('production', mismatched, { actor: 'tests', reason: 'wrong spec' });
    // the poll sees it, refuses it once, and does not retry the same version on every tick
    for (let attempt = 0; attempt < 1500 && (await reloadCount(test, 'refused')) === 0; attempt++) await sleep(20);
    await sleep(500);
    expect(await reloadCount(test, 'refused')).toBe(1);
    expect(test.models.current?.id).toBe(versions.production);
    const document = await expectProblem(await test.post('/admin/reload', '', ADMIN), 422, 'model-refused');
    expect(document.detail).toContain('feature spec 0.9.0 (hash ffffffffffffffff)');
    expect(document.detail).toContain(`feature spec ${FEATURE_SPEC.version} (hash ${FEATURE_SPEC.hash})`);
    expect((await test.post('/v1/predict', test.fixture.baskets[0])).status).toBe(200);
    expect(test.models.current?.id).toBe(versions.production);
  });

  it('an admin reload during a poll does not take the poll\'s answer: it retries the version the poll skips', async () => {
    test = await createTestApp({ models: { pollIntervalMs: 0 } });
    const { registry, versions, statistics, models } = test.fixture;
    const otherSpec = exportOnnx(variantOf(models.candidate, 0.5), exportMetadata({ featureSpecHash: 'ffffffffffffffff', featureSpecVersion: '0.9.0' }));
    const mismatched = await registerServedModel(registry, { model: otherSpec, statistics, seed: 'other-spec-race', featureSpecHash: 'ffffffffffffffff' });
    await registry.setAlias('production', mismatched, { actor: 'tests', reason: 'wrong spec' });
    await expect(test.models.reload('poll')).rejects.toBeInstanceOf(ModelRefusedError);
    // a poll in flight skips the refused version; the admin reload started beside it must still try it
    const poll = test.models.reload('poll');
    const admin = test.models.reload('admin');
    await expect(poll).resolves.toMatchObject({ changed: false });
    await expect(admin).rejects.toBeInstanceOf(ModelRefusedError);
    // two admin reloads at once still share one
    const [first, second] = [test.models.reload('admin'), test.models.reload('admin')];
    expect(first).toBe(second);
    await expect(first).rejects.toBeInstanceOf(ModelRefusedError);
    expect(test.models.current?.id).toBe(versions.production);
  });

  it('refuses a model whose feature statistics are malformed', async () => {
    test = await createTestApp();
    const { registry, versions, models } = test.fixture;
    const id = await registerServedModel(registry, { model: exportOnnx(variantOf(models.candidate, 0.25), exportMetadata()), statistics: '{"formatVersion":1,"prior":[1]}', seed: 'bad-stats' });
    await registry.setAlias('production', id, { actor: 'tests', reason: 'bad statistics' });
    const document = await expectProblem(await test.post('/admin/reload', '', ADMIN), 422, 'model-refused');
    expect(document.detail).toMatch(/feature-statistics\.json is malformed: .*prior must be 3 numbers/);
    expect(test.models.current?.id).toBe(versions.production);
    // a good model after a refused one is taken
    const good = await registerServedModel(registry, { model: exportOnnx(variantOf(models.candidate, 0.75), exportMetadata()), statistics: test.fixture.statistics, seed: 'good' });
    await registry.setAlias('production', good, { actor: 'tests', reason: 'fixed' });
    const reload = await test.post('/admin/reload', '', ADMIN);
    expect(reload.status).toBe(200);
    expect(test.models.current?.id).toBe(good);
  });

  it('a service whose first model is refused is not ready and says why', async () => {
    const fixture = await servedModelFixture();
    try {
      const bad = await registerServedModel(fixture.registry, { model: new Uint8Array([8, 1, 18, 0]), statistics: fixture.statistics, seed: 'bad-first' });
      await fixture.registry.setAlias('broken', bad, { actor: 'tests', reason: 'bad first model' });
      const models = new ModelService({ registry: fixture.registry, reference: 'broken', pollIntervalMs: 0 });
      await expect(models.start()).rejects.toBeInstanceOf(ModelRefusedError);
      expect(models.ready).toBe(false);
      const missing = new ModelService({ registry: fixture.registry, reference: 'no-such-alias', pollIntervalMs: 0 });
      const error = await missing.start().catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ModelRefusedError);
      expect(error).toMatchObject({ code: 'MODEL_REFUSED', stage: 'fetch' });
      expect((error as Error).message).toContain("no alias 'no-such-alias'");
      await Promise.all([models.close(), missing.close()]);
    } finally {
      fixture.remove();
    }
  });

  it('validates its options, reporting every problem at once', () => {
    expect(
      () => new ModelService({ registry: {} as never, reference: 'Not An Alias', pollIntervalMs: -1, inferenceWorkers: 0, requestLimits: { maxLinesPerBasket: 0 } }),
    ).toThrow(/registry must be a ModelRegistry.*reference "Not An Alias".*pollIntervalMs.*inferenceWorkers.*maxLinesPerBasket/);
  });

  it('answers requests queued on the old model after a swap (nothing is dropped mid-flight)', async () => {
    test = await createTestApp();
    const { registry, versions } = test.fixture;
    // many requests in flight on the old model while the swap happens
    const inFlight = test.fixture.baskets.slice(0, 200).map((basket) => test!.post('/v1/predict', basket, AUTHORIZED));
    await registry.setAlias('production', versions.candidate, { actor: 'tests', reason: 'swap mid-flight' });
    const reload = test.post('/admin/reload', '', ADMIN);
    const responses = await Promise.all(inFlight);
    expect(responses.map((response) => response.status)).toEqual(responses.map(() => 200));
    expect((await reload).status).toBe(200);
  });
});
