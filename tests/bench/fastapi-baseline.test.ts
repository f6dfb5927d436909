/**
 * The FastAPI + XGBoost baseline of `npm run bench:serve` does our /v1/predict's work: its Python
 * feature function equals core/features/compute.ts on real baskets of the sample, and the service
 * answers our request bodies in our response's shape with (nearly always) our GBDT's label, and
 * refuses bad bodies. Needs Debian's python3-fastapi, python3-uvicorn and python3-xgboost (bin/setup).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fastApiUnavailableReason, prepareFastApiModel, startFastApiService, type FastApiModel, type FastApiService } from '../../bench/fastapi-service';
import { SYSTEM_PYTHON } from '../../bench/xgboost';
import { basketBatchFromBaskets } from '../../core/features/basket-batch';
import { BasketFeatures, featureMatrix } from '../../core/features/compute';
import { FEATURE_COUNT, FEATURE_SPEC } from '../../core/features/spec';
import { ARTIFACT_NAMES } from '../../core/registry/types';
import type { Basket } from '../../core/schema/lgsr';
import { PredictResponseSchema } from '../../server/schemas';
import { REPO_ROOT, temporaryDirectory } from '../helpers/paths';
import { servedModelFixture, type ServedModelFixture } from '../helpers/served-model';
import { mutations } from '../server/basket-mutations';
import { API_KEY, AUTHORIZED, createTestApp, type TestApp } from '../server/harness';

const unavailable = fastApiUnavailableReason();
if (unavailable) console.warn(`SKIPPED the FastAPI baseline tests: ${unavailable}`);

/** Real baskets plus the fallbacks: products, classes, departments and stores never seen, one line, no spend. */
function basketsToCompare(fixture: ServedModelFixture): Basket[] {
  const real = fixture.baskets;
  const [first, second] = real;
  const unseen = {
    ...first,
    context: { ...first.context, STORE_CODE: 'STORE09999' },
    lines: first.lines.map((line, index) => ({
      ...line,
      PROD_CODE: index % 2 === 0 ? 'PRD0999999' : line.PROD_CODE,
      PROD_CODE_10: index % 3 === 0 ? 'CL09999' : line.PROD_CODE_10,
      PROD_CODE_20: index % 4 === 0 ? 'DEP09999' : line.PROD_CODE_20,
      PROD_CODE_40: index % 5 === 0 ? 'D00042' : line.PROD_CODE_40,
    })),
  };
  const free = { ...second, lines: second.lines.map((line) => ({ ...line, SPEND: 0 })) };
  const single = { ...second, lines: second.lines.slice(0, 1) };
  return [...real, unseen, free, single];
}

describe.skipIf(unavailable !== undefined)('the FastAPI + XGBoost baseline (bench/fastapi/)', () => {
  let fixture: ServedModelFixture;
  let directory: ReturnType<typeof temporaryDirectory>;

  beforeAll(async () => {
    fixture = await servedModelFixture();
    directory = temporaryDirectory('retail-mlops-fastapi-');
  });

  afterAll(() => {
    fixture?.remove();
    directory?.remove();
  });

  it('computes the same features as core/features/compute.ts from the served version’s statistics', async () => {
    const baskets = basketsToCompare(fixture);
    const statisticsFile = path.join(directory.path, 'statistics.json');
    const basketsFile = path.join(directory.path, 'baskets.json');
    const outFile = path.join(directory.path, 'features.f32');
    writeFileSync(statisticsFile, await fixture.registry.getArtifact(fixture.versions.production, ARTIFACT_NAMES.featureStatistics));
    writeFileSync(basketsFile, JSON.stringify(baskets));
    const result = spawnSync(SYSTEM_PYTHON, [path.join(REPO_ROOT, 'bench/fastapi/features.py'), statisticsFile, basketsFile, outFile], { encoding: 'utf8' });
    expect(result.status, result.stderr).toBe(0);
    const bytes = readFileSync(outFile);
    const python = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    const typescript = featureMatrix(new BasketFeatures(fixture.statistics), basketBatchFromBaskets(baskets));
    expect(python.length).toBe(baskets.length * FEATURE_COUNT);
    const mismatches: string[] = [];
    for (let index = 0; index < typescript.length; index++) {
      const expected = typescript[index];
      if (!(Math.abs(python[index] - expected) <= 1e-6 * Math.max(1, Math.abs(expected)))) {
        const basket = Math.floor(index / FEATURE_COUNT);
        mismatches.push(`basket ${basket} ${FEATURE_SPEC.names[index % FEATURE_COUNT]}: python ${python[index]}, typescript ${expected}`);
      }
    }
    expect(mismatches.slice(0, 10)).toEqual([]);
  });

  describe('the service, on an ephemeral loopback port', () => {
    let model: FastApiModel;
    let service: FastApiService;
    let ours: TestApp;

    beforeAll(async () => {
      model = await prepareFastApiModel({
        registry: fixture.registry,
        reference: fixture.versions.gbdt,
        trainingMatrixDirectory: fixture.trainingMatrixDirectory,
        directory: directory.path,
      });
      service = await startFastApiService({ modelDirectory: model.directory, apiKeys: [API_KEY], workers: 2 });
      ours = await createTestApp({ fixture, models: { reference: fixture.versions.gbdt } });
    });

    afterAll(async () => {
      await service?.stop();
      await ours?.close();
    });

    const post = (body: unknown, headers: Readonly<Record<string, string>> = AUTHORIZED): Promise<Response> =>
      fetch(`${service.url}/v1/predict`, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });

    it('listens on 127.0.0.1, one uvicorn worker per requested process', () => {
      expect(service.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(service.url).not.toMatch(/:0$/);
      expect(service.workers).toBe(2);
    });

    it('answers our request bodies in our response shape, with our GBDT’s label for nearly every basket', async () => {
      const baskets = fixture.baskets;
      let agreeing = 0;
      // a few requests in flight at a time: both sides see concurrent load, as under the benchmark
      for (let start = 0; start < baskets.length; start += 8) {
        await Promise.all(
          baskets.slice(start, start + 8).map(async (basket) => {
            const [theirs, mine] = await Promise.all([post(basket), ours.post('/v1/predict', basket)]);
            expect(theirs.status).toBe(200);
            expect(mine.status).toBe(200);
            const body = (await theirs.json()) as Record<string, unknown>;
            const reference = PredictResponseSchema.parse(await mine.json());
            expect(Object.keys(body).sort()).toEqual(Object.keys(reference).sort());
            const answer = PredictResponseSchema.strict().parse(body);
            expect(Object.keys(answer.probabilities).sort()).toEqual(['LA', 'MM', 'UM']);
            expect(answer).toMatchObject({ modelVersion: model.modelVersion, featureSpecVersion: FEATURE_SPEC.version, requestId: theirs.headers.get('x-request-id') });
            const { LA, MM, UM } = answer.probabilities;
            expect(LA + MM + UM).toBeCloseTo(1, 5);
            expect(answer.label).toBe((['LA', 'MM', 'UM'] as const)[[LA, MM, UM].indexOf(Math.max(LA, MM, UM))]);
            if (answer.label === reference.label) agreeing += 1;
          }),
        );
      }
      // two implementations of the same boosting on the same matrix: their bins differ, so near-ties go either way
      expect(agreeing / baskets.length).toBeGreaterThanOrEqual(0.95);
    });

    it('refuses bad bodies and a missing or wrong key with 4xx', async () => {
      const basket = fixture.baskets[0];
      expect((await post({ ...basket, lines: [] })).status).toBe(422);
      expect((await post({ ...basket, context: { ...basket.context, STORE_REGION: 'E04' } })).status).toBe(422);
      expect((await post({ ...basket, lines: [{ ...basket.lines[0], QUANTITY: '1' }] })).status).toBe(422);
      expect((await post('{"context": ', AUTHORIZED)).status).toBeGreaterThanOrEqual(400);
      expect((await post('{"context": ', AUTHORIZED)).status).toBeLessThan(500);
      expect((await post(basket, { 'content-type': 'application/json' })).status).toBe(401);
      expect((await post(basket, { ...AUTHORIZED, authorization: 'Bearer not-the-key' })).status).toBe(401);
    });

    it('accepts and refuses the same bodies as our server', async () => {
      const bodies = mutations(fixture.baskets[1]);
      const disagreements: string[] = [];
      for (const body of bodies) {
        const [theirs, mine] = await Promise.all([post(body), ours.post('/v1/predict', body)]);
        await Promise.all([theirs.arrayBuffer(), mine.arrayBuffer()]);
        if ((theirs.status === 200) !== (mine.status === 200)) disagreements.push(`${JSON.stringify(body).slice(0, 300)}: FastAPI ${theirs.status}, ours ${mine.status}`);
        else if (theirs.status !== 200) expect(theirs.status).toBe(422);
      }
      expect(disagreements).toEqual([]);
    });
  });
});
