/**
 * Predictions through app.request(): the server's answers equal batch scoring of the same baskets
 * (the in-process predictor on the features training computes, to 1e-5), for single and batch
 * requests, alone and concurrent (micro-batched); unknown products fall back; the prediction log
 * and the metrics see every prediction.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTHORIZED, batchScoring, createTestApp, type TestApp } from './harness';
import { FEATURE_COUNT, FEATURE_SPEC } from '../../core/features/spec';
import { PRICE_SENSITIVITY_CLASSES, type Basket } from '../../core/schema/lgsr';

interface Prediction {
  readonly label: string;
  readonly probabilities: Readonly<Record<'LA' | 'MM' | 'UM', number>>;
}

function expectMatchesBatchScoring(predictions: readonly Prediction[], expected: { probabilities: Float32Array; labels: Int32Array }): void {
  predictions.forEach((prediction, row) => {
    PRICE_SENSITIVITY_CLASSES.forEach((label, k) => {
      expect(Math.abs(prediction.probabilities[label] - expected.probabilities[row * 3 + k]), `row ${row} ${label}`).toBeLessThanOrEqual(1e-5);
    });
    expect(prediction.label).toBe(PRICE_SENSITIVITY_CLASSES[expected.labels[row]]);
  });
}

describe('predictions', () => {
  let test: TestApp;
  let baskets: readonly Basket[];

  beforeAll(async () => {
    test = await createTestApp();
    baskets = test.fixture.baskets;
  });
  afterAll(async () => test?.close());

  it('answers one basket with the label and probabilities batch scoring gives, and who predicted', async () => {
    const basket = baskets[0];
    const response = await test.post('/v1/predict', basket);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const body = (await response.json()) as Prediction & Record<string, unknown>;
    expect(body).toMatchObject({ modelVersion: test.fixture.versions.production, featureSpecVersion: FEATURE_SPEC.version });
    expect(body.requestId).toBe(response.headers.get('x-request-id'));
    const sum = body.probabilities.LA + body.probabilities.MM + body.probabilities.UM;
    expect(sum).toBeCloseTo(1, 5);
    expectMatchesBatchScoring([body], batchScoring(test.fixture.models.production, test.fixture, [basket]));
  });

  it('answers a batch in request order, equal to batch scoring of 2,000 held-out baskets', async () => {
    const sample = baskets.slice(0, 2000);
    const response = await test.post('/v1/predict/batch', { baskets: sample });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { predictions: Prediction[]; modelVersion: string };
    expect(body.predictions).toHaveLength(sample.length);
    expect(body.modelVersion).toBe(test.fixture.versions.production);
    expectMatchesBatchScoring(body.predictions, batchScoring(test.fixture.models.production, test.fixture, sample));
  });

  it('gives every concurrent single request its own basket’s answer (micro-batched into shared runs)', async () => {
    const sample = baskets.slice(100, 400);
    const runsBefore = await batchRunCount(test);
    const responses = await Promise.all(sample.map((basket) => test.post('/v1/predict', basket)));
    const bodies = (await Promise.all(responses.map((response) => response.json()))) as Prediction[];
    expect(responses.map((response) => response.status)).toEqual(sample.map(() => 200));
    expectMatchesBatchScoring(bodies, batchScoring(test.fixture.models.production, test.fixture, sample));
    // 300 requests in flight together travel in far fewer runs than requests
    const runs = (await batchRunCount(test)) - runsBefore;
    expect(runs).toBeGreaterThan(0);
    expect(runs).toBeLessThan(sample.length / 2);
  });

  it('mixes valid and invalid requests in one run without one spoiling another', async () => {
    const requests = baskets.slice(0, 40).map((basket, index) => (index % 4 === 1 ? { ...basket, lines: [] } : index % 4 === 3 ? '{"context":' : basket));
    const responses = await Promise.all(requests.map((body) => test.post('/v1/predict', body)));
    responses.forEach((response, index) => expect(response.status, `request ${index}`).toBe(index % 4 === 1 ? 422 : index % 4 === 3 ? 400 : 200));
    const valid = baskets.slice(0, 40).filter((_, index) => index % 2 === 0);
    const bodies = (await Promise.all(responses.filter((_, index) => index % 2 === 0).map((response) => response.json()))) as Prediction[];
    expectMatchesBatchScoring(bodies, batchScoring(test.fixture.models.production, test.fixture, valid));
  });

  it('predicts for products, classes and stores the model never saw (the features fall back)', async () => {
    const basket: Basket = {
      context: { ...baskets[0].context, STORE_CODE: 'STORE09999' },
      lines: [
        { PROD_CODE: 'PRD0999999', PROD_CODE_10: 'CL09999', PROD_CODE_20: 'DEP09999', PROD_CODE_30: 'G09999', PROD_CODE_40: 'D09999', QUANTITY: 2, SPEND: 3.5 },
        ...baskets[0].lines,
      ],
    };
    const response = await test.post('/v1/predict', basket);
    expect(response.status).toBe(200);
    expectMatchesBatchScoring([(await response.json()) as Prediction], batchScoring(test.fixture.models.production, test.fixture, [basket]));
  });

  it('keeps a well-formed X-Request-Id and replaces a malformed one', async () => {
    const kept = await test.post('/v1/predict', baskets[0], { ...AUTHORIZED, 'x-request-id': 'storefront-42' });
    expect(kept.headers.get('x-request-id')).toBe('storefront-42');
    expect(((await kept.json()) as { requestId: string }).requestId).toBe('storefront-42');
    const replaced = await test.post('/v1/predict', baskets[0], { ...AUTHORIZED, 'x-request-id': 'bad id with spaces' });
    expect(replaced.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('logs every prediction: request id, time, model, the feature vector, probabilities, label', async () => {
    const before = test.predictionLog.records.length;
    const sample = baskets.slice(500, 503);
    const response = await test.post('/v1/predict/batch', { baskets: sample }, { ...AUTHORIZED, 'x-request-id': 'logged-batch' });
    const body = (await response.json()) as { predictions: Prediction[] };
    const records = test.predictionLog.records.slice(before).filter((record) => record.requestId === 'logged-batch');
    expect(records.map((record) => record.index)).toEqual([0, 1, 2]);
    records.forEach((record, index) => {
      expect(record.modelVersion).toBe(test.fixture.versions.production);
      expect(record.featureSpecVersion).toBe(FEATURE_SPEC.version);
      expect(record.label).toBe(body.predictions[index].label);
      expect(record.features).toHaveLength(FEATURE_COUNT);
      PRICE_SENSITIVITY_CLASSES.forEach((label) => expect(record.probabilities[label]).toBeCloseTo(body.predictions[index].probabilities[label], 5));
      expect(Date.parse(record.time)).toBeGreaterThan(Date.now() - 60_000);
    });
    // the logged features are the ones training computes
    expect(records[0].features[0]).toBe(sample[0].lines.length);
  });

  it('exports request durations by route and status, predictions by class, the model, the queue', async () => {
    const text = await (await test.app.request('/metrics')).text();
    expect(text).toMatch(/retail_mlops_http_request_duration_seconds_bucket\{le="[^"]+",route="\/v1\/predict",method="POST",status="200"\}/);
    expect(text).toMatch(/retail_mlops_http_request_duration_seconds_count\{route="\/v1\/predict\/batch",method="POST",status="200"\} \d+/);
    expect(text).toMatch(/retail_mlops_predictions_total\{class="MM"\} [1-9]\d*/);
    expect(text).toContain(`retail_mlops_model_info{version="${test.fixture.versions.production}",feature_spec_version="${FEATURE_SPEC.version}",algorithm="lr",reference="production"} 1`);
    expect(text).toMatch(/retail_mlops_inference_queue_depth \d+/);
    expect(text).toMatch(/retail_mlops_inference_batch_rows_count \d+/);
    expect(text).toContain('retail_mlops_model_ready 1');
    expect(text).toContain('retail_mlops_prediction_log_dropped_total 0');
  });
});

async function batchRunCount(test: TestApp): Promise<number> {
  const metric = await test.metricsRegistry.getSingleMetric('retail_mlops_inference_batch_rows')!.get();
  return metric.values.find((value) => (value as { metricName?: string }).metricName === 'retail_mlops_inference_batch_rows_count')?.value ?? 0;
}
