/**
 * The telemetry tie on AWS: every alarm and dashboard widget reads a metric of the telemetry contract
 * (core/monitoring/telemetry.ts) or an AWS-native one; every contract metric has a metric filter on the
 * cluster's application log group that reads its event's field from the line as the CloudWatch
 * observability add-on stores it (`log_processed`); and the lines the real server and the real
 * prediction log write, stored that way, give every API metric a value through those filters. (The
 * monitor's events: tests/bin/monitor.test.ts checks its lines carry every field the contract lists.)
 */
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { synthesizeAll } from './synthesis';
import { ENVIRONMENT_FIELD, METRIC_DIMENSION, METRICS_NAMESPACE, metricNamed, TELEMETRY_EVENTS, TELEMETRY_METRICS, TELEMETRY_SOURCES } from '../../../../core/monitoring/telemetry';
import { applicationLogGroupName, PARSED_LOG_FIELD } from '../../../../providers/aws/infra/observability';
import { createJsonLogger } from '../../../../server/logger';
import { startServer } from '../../../../server/main';
import { temporaryDirectory } from '../../../helpers/paths';
import { openDirectoryPredictionLog } from '../../../helpers/prediction-log';
import { servedModelFixture, type ServedModelFixture } from '../../../helpers/served-model';
import { API_KEY, AUTHORIZED } from '../../../server/harness';

type Resource = { Type: string; Properties: Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any

interface MetricFilter {
  readonly logGroup: unknown;
  readonly pattern: string;
  readonly namespace: string;
  readonly name: string;
  readonly value: string;
  readonly dimensions: Readonly<Record<string, string>>;
}

/** A CloudWatch JSON filter pattern of the form `{ $.a.b = "x" && $.c = "y" }` applied to a record (throws on any other syntax: the test must understand every filter). */
function matches(pattern: string, record: unknown): boolean {
  const body = /^\{\s*(.+?)\s*\}$/.exec(pattern)?.[1];
  if (!body) throw new Error(`unsupported filter pattern ${pattern}`);
  return body.split('&&').every((clause) => {
    const parsed = /^\s*\$\.([\w.]+)\s*=\s*"([^"]*)"\s*$/.exec(clause);
    if (!parsed) throw new Error(`unsupported clause ${clause} in ${pattern}`);
    return select(`$.${parsed[1]}`, record) === parsed[2];
  });
}

/** `$.a.b` of a record. */
function select(selector: string, record: unknown): unknown {
  if (!selector.startsWith('$.')) throw new Error(`unsupported selector ${selector}`);
  return selector
    .slice(2)
    .split('.')
    .reduce<unknown>((value, key) => (typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined), record);
}

/** A container line as the add-on's Fluent Bit stores it (Merge_Log on, parsed under log_processed). */
function storedRecord(line: string, container: string): Record<string, unknown> {
  return { log: line, stream: 'stderr', kubernetes: { namespace_name: 'retail-mlops-dev', container_name: container, pod_name: `retail-mlops-api-${container}` }, [PARSED_LOG_FIELD]: JSON.parse(line) };
}

let resources: Resource[];
let filters: MetricFilter[];
const scratch = temporaryDirectory('infra-telemetry-');

beforeAll(() => {
  const synthesized = synthesizeAll(scratch.path, ['dev']);
  resources = Object.values(synthesized.json('dev').Resources as Record<string, Resource>);
  filters = resources
    .filter((resource) => resource.Type === 'AWS::Logs::MetricFilter')
    .map((resource) => {
      const [transformation] = resource.Properties.MetricTransformations;
      return {
        logGroup: resource.Properties.LogGroupName,
        pattern: resource.Properties.FilterPattern,
        namespace: transformation.MetricNamespace,
        name: transformation.MetricName,
        value: transformation.MetricValue,
        dimensions: Object.fromEntries((transformation.Dimensions ?? []).map((dimension: { Key: string; Value: string }) => [dimension.Key, dimension.Value])),
      };
    });
});
afterAll(() => scratch.remove());

describe('the AWS stack reads only what the telemetry contract names', () => {
  it('creates the cluster\'s application log group (encrypted, with retention) and one metric filter per contract metric on it', () => {
    const group = resources.find((resource) => resource.Type === 'AWS::Logs::LogGroup' && resource.Properties.LogGroupName === applicationLogGroupName('retail-mlops-dev'));
    expect(group?.Properties).toMatchObject({ RetentionInDays: expect.any(Number), KmsKeyId: expect.anything() });
    expect(filters.map((filter) => filter.name).sort()).toEqual(Object.values(TELEMETRY_METRICS).map((metric) => metric.name).sort());
    for (const filter of filters) {
      const metric = metricNamed(filter.name)!;
      const event = TELEMETRY_EVENTS[metric.event];
      expect(filter.namespace).toBe(METRICS_NAMESPACE);
      expect(filter.pattern).toBe(`{ $.${PARSED_LOG_FIELD}.event = "${event.name}" }`);
      expect(filter.value).toBe(`$.${PARSED_LOG_FIELD}.${metric.field}`);
      expect(event.numericFields as readonly string[]).toContain(metric.field);
      expect(filter.dimensions).toEqual({ [METRIC_DIMENSION]: `$.${PARSED_LOG_FIELD}.${ENVIRONMENT_FIELD}` });
      expect(JSON.stringify(filter.logGroup)).toContain('ApplicationLogs');
    }
  });

  it('alarms and dashboard widgets read contract metrics (with the contract\'s statistic) or AWS-native ones, and nothing publishes metrics another way', () => {
    const read: { namespace: string; name: string; stat?: string; where: string }[] = [];
    for (const alarm of resources.filter((resource) => resource.Type === 'AWS::CloudWatch::Alarm')) {
      const where = `alarm ${alarm.Properties.AlarmName}`;
      if (alarm.Properties.MetricName) read.push({ namespace: alarm.Properties.Namespace, name: alarm.Properties.MetricName, stat: alarm.Properties.Statistic, where });
      for (const entry of alarm.Properties.Metrics ?? []) {
        if (entry.MetricStat) read.push({ namespace: entry.MetricStat.Metric.Namespace, name: entry.MetricStat.Metric.MetricName, stat: entry.MetricStat.Stat, where });
      }
    }
    const dashboards = resources.filter((resource) => resource.Type === 'AWS::CloudWatch::Dashboard');
    expect(dashboards).toHaveLength(1);
    // the body is a join of text and references: the references become placeholders
    const body = JSON.parse(
      (dashboards[0].Properties.DashboardBody['Fn::Join'][1] as unknown[]).map((part) => (typeof part === 'string' ? part : 'REF')).join(''),
    ) as { widgets: { properties: { title: string; metrics?: unknown[][] } }[] };
    let widgetMetrics = 0;
    for (const widget of body.widgets) {
      for (const metric of widget.properties.metrics ?? []) {
        if (typeof metric[0] !== 'string') continue; // a math expression over metrics listed beside it
        const options = (metric.find((item) => typeof item === 'object') ?? {}) as { stat?: string };
        read.push({ namespace: metric[0], name: String(metric[1]), stat: options.stat, where: `widget ${widget.properties.title}` });
        widgetMetrics += 1;
      }
    }
    expect(widgetMetrics).toBeGreaterThanOrEqual(8);
    for (const { namespace, name, stat, where } of read) {
      if (namespace.startsWith('AWS/')) continue;
      expect(namespace, where).toBe(METRICS_NAMESPACE);
      const metric = metricNamed(name);
      expect(metric, `${where} reads ${name}, which the telemetry contract does not define`).toBeDefined();
      expect(filters.some((filter) => filter.name === name), `${where}: a metric filter produces ${name}`).toBe(true);
      if (stat) expect(stat, `${where} aggregates ${name} as the contract says`).toBe(metric!.statistic);
    }
    // the alarms cover latency, errors and drift
    const alarmed = new Set(read.filter((item) => item.where.startsWith('alarm')).map((item) => item.name));
    const expected = [TELEMETRY_METRICS.drift, TELEMETRY_METRICS.latencyP95, TELEMETRY_METRICS.requests, TELEMETRY_METRICS.serverErrors].map((metric) => metric.name);
    expect([...alarmed].sort()).toEqual(expected.sort());
    // nobody may publish into the contract's namespace directly (SageMaker jobs publish into their own)
    const statements = resources
      .filter((resource) => resource.Type === 'AWS::IAM::Policy')
      .flatMap((resource) => resource.Properties.PolicyDocument.Statement as { Action: string | string[]; Condition?: unknown }[]);
    for (const statement of statements.filter((candidate) => [candidate.Action].flat().some((action) => action === 'cloudwatch:PutMetricData' || action === 'cloudwatch:*'))) {
      expect(JSON.stringify(statement.Condition ?? {})).toMatch(/"cloudwatch:namespace":"\/aws\/sagemaker\/\*"/);
    }
  });
});

describe('the lines the code writes give every API metric a value through the filters', () => {
  let fixture: ServedModelFixture;
  beforeAll(async () => {
    fixture = await servedModelFixture();
  });
  afterAll(() => fixture?.remove());

  it('the server\'s http.window lines and the prediction log\'s dropping lines, stored as the add-on stores them', async () => {
    const lines: string[] = [];
    const logger = createJsonLogger({ stream: { write: (text: string) => lines.push(...text.split('\n').filter((line) => line.length > 0)) } });
    const server = await startServer({
      registry: fixture.registry,
      port: 0,
      host: '127.0.0.1',
      apiKeys: [API_KEY],
      pollIntervalMs: 0,
      requestWindowMs: 100,
      environmentName: 'dev',
      logger,
      environment: {},
    });
    try {
      for (const basket of fixture.baskets.slice(0, 5)) {
        expect((await fetch(`${server.url}/v1/predict`, { method: 'POST', headers: AUTHORIZED, body: JSON.stringify(basket) })).status).toBe(200);
      }
      const deadline = Date.now() + 10_000;
      while (!lines.some((line) => line.includes(`"event":"${TELEMETRY_EVENTS.httpWindow.name}"`)) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      await server.close();
    }
    // a prediction log that cannot keep up says so
    const log = await openDirectoryPredictionLog(path.join(scratch.path, 'flood'), { maxPendingRecords: 10, minimumSampleRate: 1, samplingStartsAt: 1, environment: 'dev', logger });
    log.append({
      time: Date.now(),
      modelVersion: fixture.versions.production,
      featureSpecVersion: '1',
      featureCount: 1,
      requestIds: ['flood'],
      rowsPerRequest: Uint32Array.of(20),
      features: new Float32Array(20),
      probabilities: new Float32Array(60),
      labels: new Uint8Array(20),
    });
    await log.close();

    const records = lines.map((line) => storedRecord(line, TELEMETRY_SOURCES.api));
    for (const [key, metric] of Object.entries(TELEMETRY_METRICS)) {
      if (TELEMETRY_EVENTS[metric.event].source !== TELEMETRY_SOURCES.api) continue;
      const filter = filters.find((candidate) => candidate.name === metric.name)!;
      const values = records
        .filter((record) => matches(filter.pattern, record))
        .map((record) => ({ value: select(filter.value, record), dimension: select(filter.dimensions[METRIC_DIMENSION], record) }));
      expect(values.length, `lines matching the ${key} filter`).toBeGreaterThan(0);
      for (const { value, dimension } of values) {
        expect(typeof value === 'number' && Number.isFinite(value), `${metric.name} reads a number`).toBe(true);
        expect(dimension).toBe('dev');
      }
    }
  });
});
