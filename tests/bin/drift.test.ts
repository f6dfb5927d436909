import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { basketBatchFromBaskets } from '../../core/features/basket-batch';
import { BasketFeatures, featureMatrix } from '../../core/features/compute';
import { FEATURE_COUNT, FEATURE_SPEC } from '../../core/features/spec';
import { computeDrift, DRIFT_REPORT_EVENT, populationStabilityIndex } from '../../core/monitoring/drift';
import type { Basket } from '../../core/schema/lgsr';
import { cli } from '../helpers/cli';
import { openDirectoryPredictionLog } from '../helpers/prediction-log';
import type { ServedModelFixture } from '../helpers/served-model';
import { useServedModelAndSampleLake } from '../helpers/served-sample-lake';

describe('PSI', () => {
  it('is 0 for the same distribution, grows with the shift, and survives empty bins', () => {
    expect(populationStabilityIndex([10, 20, 30], [20, 40, 60])).toBeCloseTo(0, 12);
    const small = populationStabilityIndex([25, 25, 25, 25], [30, 25, 25, 20]);
    const large = populationStabilityIndex([25, 25, 25, 25], [70, 10, 10, 10]);
    expect(small).toBeGreaterThan(0);
    expect(small).toBeLessThan(0.1);
    expect(large).toBeGreaterThan(0.25);
    expect(Number.isFinite(populationStabilityIndex([50, 50, 0], [0, 50, 50]))).toBe(true);
  });

  it('bins categorical features by value (a new value is its own bin) and continuous ones by reference deciles', () => {
    const rows = 1000;
    const reference = new Float32Array(rows * 2);
    const same = new Float32Array(rows * 2);
    const shifted = new Float32Array(rows * 2);
    for (let row = 0; row < rows; row++) {
      reference[row * 2] = row % 2; // one-hot like
      reference[row * 2 + 1] = row / rows; // uniform 0…1
      same[row * 2] = (row + 1) % 2;
      same[row * 2 + 1] = ((row * 7) % rows) / rows;
      shifted[row * 2] = row % 3; // a value the reference never had
      shifted[row * 2 + 1] = 0.5 + row / rows / 2; // upper half only
    }
    const predicted = new Uint8Array(rows);
    const drift = (values: Float32Array) =>
      computeDrift({ featureNames: ['flag', 'level'], classLabels: ['LA', 'MM', 'UM'], reference: { values: reference, rows, predicted }, current: { values, rows, predicted } });
    expect(drift(same).maxPsi).toBeLessThan(0.01);
    const moved = drift(shifted);
    expect(moved.features.map((item) => item.feature)).toEqual(['level', 'flag']);
    expect(moved.drifted).toEqual(['level', 'flag']);
    expect(moved.features[0].currentMean).toBeCloseTo(0.75, 2);
  });
});

describe('retail-mlops drift on the real sample and a prediction log', () => {
  const setup = useServedModelAndSampleLake();
  const { lake, scratch } = setup;
  let fixture: ServedModelFixture;

  /** Writes the baskets' predictions as the server's prediction log does. */
  async function logPredictions(directory: string, baskets: readonly Basket[], label: (index: number) => number): Promise<void> {
    const log = await openDirectoryPredictionLog(directory, { flushIntervalMs: 10 });
    const features = featureMatrix(new BasketFeatures(fixture.statistics), basketBatchFromBaskets(baskets));
    const probabilities = new Float32Array(baskets.length * 3);
    const labels = Uint8Array.from(baskets, (_, index) => label(index));
    labels.forEach((value, index) => (probabilities[index * 3 + value] = 1));
    log.append({
      time: Date.parse('2026-11-20T10:00:00Z'),
      modelVersion: fixture.versions.production,
      featureSpecVersion: FEATURE_SPEC.version,
      featureCount: FEATURE_COUNT,
      requestIds: ['request-1'],
      rowsPerRequest: Uint32Array.of(baskets.length),
      features,
      probabilities,
      labels,
    });
    await log.close();
  }

  beforeAll(() => {
    fixture = setup.fixture();
  });

  it('finds no drift in baskets like the evaluation week, and reports the shift of a skewed log with its event and HTML report', async () => {
    // the evaluation week's own baskets (the fixture keeps the held-out week's), labelled as the model would
    const steady = path.join(scratch, 'steady');
    await logPredictions(steady, fixture.baskets, (index) => Math.max(0, fixture.labels[index]));
    const calm = await cli(['drift', '--registry', fixture.registryRoot, '--model', 'production', '--lake', lake, '--predictions', steady, '--json']);
    expect(calm.code, calm.stderr).toBe(0);
    const quiet = JSON.parse(calm.stdout) as { predictions: number; referenceWeeks: number[]; maxPsi: number; drifted: string[] };
    expect(quiet.predictions).toBe(fixture.baskets.length);
    expect(quiet.referenceWeeks).toEqual([200611]);
    expect(quiet.maxPsi).toBeLessThan(0.1);
    expect(quiet.drifted).toEqual([]);

    // only large-store baskets, all predicted UM: store format and the classes move
    const skewedBaskets = fixture.baskets.filter((basket) => basket.context.STORE_FORMAT === 'LS');
    expect(skewedBaskets.length).toBeGreaterThan(100);
    const skewed = path.join(scratch, 'skewed');
    await logPredictions(skewed, skewedBaskets, () => 2);
    const report = path.join(scratch, 'drift.html');
    const alarmed = await cli(['drift', '--registry', fixture.registryRoot, '--model', 'production', '--lake', lake, '--predictions', skewed, '--report', report, '--json']);
    expect(alarmed.code, alarmed.stderr).toBe(0);
    const loud = JSON.parse(alarmed.stdout) as { maxPsi: number; drifted: string[]; classPsi: number; features: Array<{ feature: string; psi: number }> };
    expect(loud.maxPsi).toBeGreaterThan(0.25);
    expect(loud.drifted).toContain('format_ls');
    expect(loud.drifted).toContain('predicted class');
    expect(loud.classPsi).toBeGreaterThan(0.25);
    // the structured line log-based alerts read
    const event = alarmed.stderr
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { event: string; maxPsi: number; level: string })
      .find((entry) => entry.event === DRIFT_REPORT_EVENT);
    expect(event).toMatchObject({ level: 'warn', maxPsi: loud.maxPsi });
    const html = readFileSync(report, 'utf8');
    expect(html).toContain('<svg');
    expect(html).toContain('format_ls');
    expect(html).not.toMatch(/<script|(?:src|href)=["']?https?:/);
  });

  it('says so when the log holds nothing to compare', async () => {
    const result = await cli(['drift', '--registry', fixture.registryRoot, '--lake', lake, '--predictions', path.join(scratch, 'steady'), '--since', '2030-01-01T00:00:00Z']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/no predictions of feature spec .* since 2030-01-01/);
    expect((await cli(['drift', '--registry', fixture.registryRoot, '--lake', lake, '--since', 'yesterday'])).code).toBe(2);
  });
});
