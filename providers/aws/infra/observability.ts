/**
 * What tells people something is wrong: the cluster's application log group (where the CloudWatch
 * observability add-on ships every container's output), metric filters that turn the telemetry
 * events of core/monitoring/telemetry.ts into metrics (one per TELEMETRY_METRICS entry, dimension
 * `Environment` from the event's `environment` field), alarms on those (p95 latency, 5xx rate,
 * drift) to an SNS topic (KMS-encrypted, TLS only) with the environment's e-mail subscribers, a
 * CloudWatch dashboard, and an AWS Budgets cost budget with notifications at 80% and 100% of the
 * limit (actual) and 100% (forecast). Metrics come from log lines only: nothing calls PutMetricData.
 */
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as budgets from 'aws-cdk-lib/aws-budgets';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import type { ResolvedEnvironmentProps } from './environments';
import {
  ENVIRONMENT_FIELD,
  METRIC_DIMENSION,
  METRICS_NAMESPACE,
  TELEMETRY_EVENTS,
  TELEMETRY_METRICS,
  type TelemetryMetricKey,
} from '../../../core/monitoring/telemetry';

/**
 * Where the CloudWatch observability add-on's Fluent Bit puts a container line it parsed as JSON
 * (`Merge_Log_Key log_processed`); the record also holds `log` (the raw line) and `kubernetes`
 * (pod, namespace, container).
 */
export const PARSED_LOG_FIELD = 'log_processed';

/** The log group the add-on writes the cluster's container output to. */
export function applicationLogGroupName(clusterName: string): string {
  return `/aws/containerinsights/${clusterName}/application`;
}

export interface ObservabilityProps extends ResolvedEnvironmentProps {
  readonly logsKey: kms.IKey;
  readonly athenaWorkGroupName: string;
  /** The EKS cluster whose containers log the telemetry. */
  readonly clusterName: string;
}

export class Observability extends Construct {
  /** The cluster's container logs (created here, with retention and encryption; the add-on writes into it). */
  readonly applicationLogs: logs.LogGroup;
  /** One metric filter per telemetry metric. */
  readonly metricFilters: Readonly<Record<TelemetryMetricKey, logs.MetricFilter>>;
  readonly topic: sns.Topic;
  readonly dashboard: cloudwatch.Dashboard;
  readonly latencyAlarm: cloudwatch.Alarm;
  readonly errorRateAlarm: cloudwatch.Alarm;
  readonly driftAlarm: cloudwatch.Alarm;
  readonly budget: budgets.CfnBudget;

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.topic = new sns.Topic(this, 'Notifications', {
      displayName: `retail-mlops ${props.environment} alarms and budget`,
      masterKey: props.logsKey,
      enforceSSL: true,
    });
    for (const email of props.notificationEmails) this.topic.addSubscription(new subscriptions.EmailSubscription(email));
    // CloudWatch alarms and AWS Budgets publish to the encrypted topic
    for (const service of ['cloudwatch.amazonaws.com', 'budgets.amazonaws.com']) {
      props.logsKey.grant(new iam.ServicePrincipal(service), 'kms:Decrypt', 'kms:GenerateDataKey*');
    }
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'BudgetsPublish',
        principals: [new iam.ServicePrincipal('budgets.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    );

    this.applicationLogs = new logs.LogGroup(this, 'ApplicationLogs', {
      logGroupName: applicationLogGroupName(props.clusterName),
      retention: props.logRetentionDays as logs.RetentionDays,
      encryptionKey: props.logsKey,
      removalPolicy: props.removalPolicy === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    });
    const units: Readonly<Record<string, cloudwatch.Unit>> = { Count: cloudwatch.Unit.COUNT, Milliseconds: cloudwatch.Unit.MILLISECONDS, None: cloudwatch.Unit.NONE };
    const filters: Partial<Record<TelemetryMetricKey, logs.MetricFilter>> = {};
    for (const [key, definition] of Object.entries(TELEMETRY_METRICS) as [TelemetryMetricKey, (typeof TELEMETRY_METRICS)[TelemetryMetricKey]][]) {
      filters[key] = new logs.MetricFilter(this, `${definition.name}Filter`, {
        logGroup: this.applicationLogs,
        filterName: `retail-mlops-${props.environment}-${definition.name}`,
        filterPattern: logs.FilterPattern.stringValue(`$.${PARSED_LOG_FIELD}.event`, '=', TELEMETRY_EVENTS[definition.event].name),
        metricNamespace: METRICS_NAMESPACE,
        metricName: definition.name,
        metricValue: `$.${PARSED_LOG_FIELD}.${definition.field}`,
        dimensions: { [METRIC_DIMENSION]: `$.${PARSED_LOG_FIELD}.${ENVIRONMENT_FIELD}` },
        unit: units[definition.unit],
      });
    }
    this.metricFilters = filters as Record<TelemetryMetricKey, logs.MetricFilter>;

    const dimensionsMap = { [METRIC_DIMENSION]: props.environment };
    /** A telemetry metric as alarms and widgets read it (its statistic from the contract). */
    const metric = (key: TelemetryMetricKey, label: string, period = Duration.minutes(1)): cloudwatch.Metric =>
      new cloudwatch.Metric({ namespace: METRICS_NAMESPACE, metricName: TELEMETRY_METRICS[key].name, dimensionsMap, statistic: TELEMETRY_METRICS[key].statistic, period, label });
    const latencyP95 = metric('latencyP95', 'p95 latency (ms), worst pod');
    const latencyP99 = metric('latencyP99', 'p99 latency (ms), worst pod');
    const requests = metric('requests', 'requests');
    const serverErrors = metric('serverErrors', '5xx responses');
    const errorRate = new cloudwatch.MathExpression({
      expression: 'IF(requests > 0, errors / requests, 0)',
      usingMetrics: { requests, errors: serverErrors },
      period: Duration.minutes(1),
      label: '5xx rate',
    });
    const drift = metric('drift', 'drift (largest PSI)', Duration.hours(1));
    const liveAccuracy = metric('liveAccuracy', 'live accuracy', Duration.hours(1));
    const retrains = metric('retrainTriggered', 'retrains started', Duration.hours(1));
    const dropped = metric('predictionLogDropped', 'prediction records dropped', Duration.minutes(5));

    this.latencyAlarm = new cloudwatch.Alarm(this, 'LatencyP95Alarm', {
      alarmName: `retail-mlops-${props.environment}-api-latency-p95`,
      alarmDescription: `The API's p95 latency is above ${props.latencyP95AlarmMs} ms in 3 of the last 5 minutes.`,
      metric: latencyP95,
      threshold: props.latencyP95AlarmMs,
      evaluationPeriods: 5,
      datapointsToAlarm: 3,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.errorRateAlarm = new cloudwatch.Alarm(this, 'ErrorRateAlarm', {
      alarmName: `retail-mlops-${props.environment}-api-5xx-rate`,
      alarmDescription: `More than ${props.errorRateAlarmThreshold * 100}% of the API's responses are 5xx in 3 of the last 5 minutes.`,
      metric: errorRate,
      threshold: props.errorRateAlarmThreshold,
      evaluationPeriods: 5,
      datapointsToAlarm: 3,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.driftAlarm = new cloudwatch.Alarm(this, 'DriftAlarm', {
      alarmName: `retail-mlops-${props.environment}-prediction-drift`,
      alarmDescription: `The predictions' drift score (PSI) is above ${props.driftAlarmThreshold}: consider retraining.`,
      metric: drift,
      threshold: props.driftAlarmThreshold,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    for (const alarm of [this.latencyAlarm, this.errorRateAlarm, this.driftAlarm]) {
      alarm.addAlarmAction(new actions.SnsAction(this.topic));
      alarm.addOkAction(new actions.SnsAction(this.topic));
    }

    const athenaScanned = new cloudwatch.Metric({
      namespace: 'AWS/Athena',
      metricName: 'ProcessedBytes',
      dimensionsMap: { WorkGroup: props.athenaWorkGroupName },
      statistic: 'Sum',
      period: Duration.hours(1),
      label: 'Athena bytes scanned',
    });
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `retail-mlops-${props.environment}`,
      defaultInterval: Duration.hours(24),
      widgets: [
        [
          new cloudwatch.GraphWidget({ title: 'API latency p95 / p99 (ms)', left: [latencyP95, latencyP99], leftAnnotations: [{ value: props.latencyP95AlarmMs, label: 'alarm' }], width: 8 }),
          new cloudwatch.GraphWidget({ title: 'API requests and 5xx', left: [requests], right: [serverErrors], width: 8 }),
          new cloudwatch.GraphWidget({ title: 'API 5xx rate', left: [errorRate], leftAnnotations: [{ value: props.errorRateAlarmThreshold, label: 'alarm' }], width: 8 }),
        ],
        [
          new cloudwatch.GraphWidget({ title: 'Prediction drift (PSI)', left: [drift], leftAnnotations: [{ value: props.driftAlarmThreshold, label: 'alarm' }], width: 8 }),
          new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: [this.latencyAlarm, this.errorRateAlarm, this.driftAlarm], width: 8 }),
          new cloudwatch.GraphWidget({ title: 'Athena bytes scanned', left: [athenaScanned], width: 8 }),
        ],
        [
          new cloudwatch.GraphWidget({ title: 'Live accuracy (labelled baskets)', left: [liveAccuracy], width: 8 }),
          new cloudwatch.GraphWidget({ title: 'Retrains started by the monitor', left: [retrains], width: 8 }),
          new cloudwatch.GraphWidget({ title: 'Prediction records dropped', left: [dropped], width: 8 }),
        ],
      ],
    });

    this.budget = new budgets.CfnBudget(this, 'MonthlyBudget', {
      budget: {
        budgetName: `retail-mlops-${props.environment}-monthly`,
        budgetType: 'COST',
        timeUnit: 'MONTHLY',
        budgetLimit: { amount: props.monthlyBudgetUsd, unit: 'USD' },
      },
      notificationsWithSubscribers: [
        { threshold: 80, notificationType: 'ACTUAL' },
        { threshold: 100, notificationType: 'ACTUAL' },
        { threshold: 100, notificationType: 'FORECASTED' },
      ].map(({ threshold, notificationType }) => ({
        notification: { comparisonOperator: 'GREATER_THAN', notificationType, threshold, thresholdType: 'PERCENTAGE' },
        subscribers: [
          { subscriptionType: 'SNS', address: this.topic.topicArn },
          ...props.notificationEmails.map((address) => ({ subscriptionType: 'EMAIL', address })),
        ],
      })),
    });
  }
}
