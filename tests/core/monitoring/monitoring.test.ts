/**
 * The monitoring core on its own: the `monitoring` section's validation (every problem at once) and
 * defaults, weighted drift (a sampled log counts as the traffic it stands for), live accuracy per day,
 * and the reader of shipped segments (time window, other feature specs skipped, rates as weights).
 */
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { computeDrift } from '../../../core/monitoring/drift';
import { computeLiveAccuracy } from '../../../core/monitoring/live-accuracy';
import { readShippedPredictions } from '../../../core/monitoring/prediction-log-reader';
import { encodeRecords, encodeSegmentHeader, segmentKey, segmentName } from '../../../core/monitoring/prediction-segments';
import { DEFAULT_MONITORING, monitoringSettingsProblems, resolveMonitoringSettings } from '../../../core/monitoring/settings';
import { createLocalObjectStorage } from '../../../providers/local/object-storage';
import { temporaryDirectory } from '../../helpers/paths';

describe('the monitoring section', () => {
  it('defaults every threshold, takes the accuracy floors from the gate, and lets flags override the file', () => {
    expect(resolveMonitoringSettings({})).toEqual({ ...DEFAULT_MONITORING, minimumAccuracy: 0.75, minimumMacroF1: 0.7 });
    const file = { gate: { minimumAccuracy: 0.8 }, monitoring: { windowHours: 6, cooldownHours: 12 } };
    const resolved = resolveMonitoringSettings(file, { windowHours: 2, driftThreshold: undefined });
    expect(resolved).toMatchObject({ windowHours: 2, cooldownHours: 12, driftThreshold: 0.25, minimumAccuracy: 0.8, minimumMacroF1: 0.7 });
  });

  it('reports every problem at once: unknown keys, ranges, the schedule, each trigger\'s fields, secrets in the file', () => {
    const problems = monitoringSettingsProblems({
      windowHours: -1,
      minimumPredictions: 1.5,
      schedule: '* * *',
      cooldown: 5,
      trigger: { kind: 'jenkins', url: 'http://jenkins.example.com', job: 'a//b', tokenVariable: 'my-token-value', token: 'abc' },
    });
    expect(problems).toEqual([
      expect.stringContaining("unknown key 'cooldown'"),
      expect.stringContaining('windowHours must be a number (hours) from 0.25'),
      expect.stringContaining('minimumPredictions must be an integer'),
      expect.stringContaining('schedule must be a cron schedule of 5 fields'),
      expect.stringContaining("unknown key 'token'"),
      expect.stringContaining('url must be https://'),
      expect.stringContaining('job must be folder/…/job names'),
      expect.stringContaining('tokenVariable must name an environment variable'),
    ]);
    expect(monitoringSettingsProblems({ trigger: { kind: 'gitlab' } })).toEqual([expect.stringContaining('kind must be one of jenkins, azure-devops, travis, webhook')]);
    expect(monitoringSettingsProblems({ trigger: { kind: 'azure-devops', organizationUrl: 'https://user:pw@dev.azure.com/acme', project: 'p', pipelineId: 0 } })).toEqual([
      expect.stringContaining('must not hold credentials'),
      expect.stringContaining('pipelineId must be'),
    ]);
    expect(monitoringSettingsProblems({ schedule: '*/15 8-18 * * 1-5', trigger: { kind: 'webhook', url: 'http://127.0.0.1:9000/hook' } })).toEqual([]);
    expect(() => resolveMonitoringSettings({ monitoring: { windowHours: 0 } }, { cooldownHours: -1 })).toThrow(/windowHours.*flag cooldownHours/);
  });
});

describe('weighted drift and live accuracy', () => {
  it('counts a sampled record as the traffic it stands for (weight 1 / rate)', () => {
    const rows = 1000;
    const reference = Float32Array.from({ length: rows }, (_, row) => (row < 500 ? 0 : 1));
    // the current log kept every 0 and one 1 in four: unweighted it looks shifted, weighted it is not
    const current: number[] = [];
    const weights: number[] = [];
    for (let row = 0; row < 500; row++) {
      current.push(0);
      weights.push(1);
    }
    for (let row = 0; row < 125; row++) {
      current.push(1);
      weights.push(4);
    }
    const view = (values: number[], withWeights: boolean) => ({
      values: Float32Array.from(values),
      rows: values.length,
      predicted: new Uint8Array(values.length),
      ...(withWeights ? { weights } : {}),
    });
    const drift = (withWeights: boolean) =>
      computeDrift({ featureNames: ['flag'], classLabels: ['LA', 'MM', 'UM'], reference: { values: reference, rows, predicted: new Uint8Array(rows) }, current: view(current, withWeights) });
    expect(drift(false).maxPsi).toBeGreaterThan(0.1);
    expect(drift(true).maxPsi).toBeLessThan(1e-9);
    expect(drift(true).features[0].currentMean).toBeCloseTo(0.5, 9);
    expect(computeDrift({ featureNames: ['flag'], classLabels: ['LA'], reference: { values: reference, rows, predicted: new Uint8Array(rows) }, current: view(current, false), threshold: 0.5 }).drifted).toEqual([]);
  });

  it('scores labelled predictions per UTC day, weighted, skipping unlabelled and unclassified ones', () => {
    const day = 86_400_000;
    const start = Date.UTC(2026, 10, 20);
    const live = computeLiveAccuracy({
      classCount: 3,
      predicted: [0, 1, 2, 1, 1, 0],
      actual: [0, 1, 1, -1, -2, 0],
      weights: [1, 1, 2, 1, 1, 1],
      times: [start, start + 1000, start + day, start + day, start + day, start + 2 * day + 5],
    })!;
    expect(live.records).toBe(4);
    expect(live.baskets).toBe(5);
    expect(live.accuracy).toBeCloseTo(3 / 5, 12);
    expect(live.days.map((item) => [item.day, item.accuracy, item.baskets])).toEqual([
      ['2026-11-20', 1, 2],
      ['2026-11-21', 0, 2],
      ['2026-11-22', 1, 1],
    ]);
    // macro-F1 over every class: LA perfect; MM precision 1, recall 1/3 (weight 2 predicted UM) → F1 ½; UM never right
    expect(live.macroF1).toBeCloseTo((1 + 0.5 + 0) / 3, 12);
    expect(computeLiveAccuracy({ classCount: 3, predicted: [1], actual: [-2], weights: [1], times: [start] })).toBeUndefined();
  });
});

describe('reading shipped segments', () => {
  it('reads the window\'s records from the day partitions it touches, rates as weights, other feature specs skipped', async () => {
    const directory = temporaryDirectory();
    try {
      const storage = createLocalObjectStorage({ root: directory.path });
      const hour = 3_600_000;
      const base = Date.UTC(2026, 10, 20, 23, 30);
      const put = async (openedAt: number, featureSpecVersion: string, time: number, rate: number, sequence: number): Promise<void> => {
        const text =
          encodeSegmentHeader({ instance: 'pod', modelVersion: 'v-000000000001', featureSpecVersion, classes: ['LA', 'MM', 'UM'] }) +
          encodeRecords({
            time,
            requestIds: ['r'],
            rowsPerRequest: [2],
            featureCount: 2,
            features: [0.1, 0.2, 0.3, 0.4],
            probabilities: [1, 0, 0, 0, 1, 0],
            classCount: 3,
            labels: [0, 1],
            basketIds: [100000000000001, Number.NaN],
            rate,
          });
        await storage.put(segmentKey('predictions', segmentName(openedAt, 'pod', sequence)), gzipSync(text));
      };
      await put(base - 48 * hour, '1', base - 48 * hour, 1, 1); // too old
      await put(base, '1', base + hour, 0.25, 2); // opened the day before the window, records inside it
      await put(base + 2 * hour, '0.9', base + 2 * hour, 1, 3); // another feature spec
      await storage.put('predictions/date=2026-11-21/notes.txt', new Uint8Array(3));
      const read = await readShippedPredictions(storage, { prefix: 'predictions', since: base + 30 * 60_000, featureSpecVersion: '1', featureCount: 2, classes: ['LA', 'MM', 'UM'] });
      expect(read.rows).toBe(2);
      expect(read.segments).toBe(2);
      expect(read.skipped).toBe(2);
      expect(Array.from(read.weights)).toEqual([4, 4]);
      expect(Array.from(read.basketIds)).toEqual([100000000000001, Number.NaN]);
      expect(Array.from(read.features)).toEqual([0.1, 0.2, 0.3, 0.4].map(Math.fround));
      expect(read.sampled).toBe(2);
      expect(read.from).toBe(new Date(base + hour).toISOString());
    } finally {
      directory.remove();
    }
  });
});
