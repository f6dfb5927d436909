/**
 * What tells people something is wrong: an SNS topic (KMS-encrypted, TLS only) with the
 * environment's e-mail subscribers; alarms on the API's custom metrics (p95 latency, 5xx rate,
 * drift: see ../cloudwatch-metrics.ts); a CloudWatch dashboard with those and the training and
 * Athena numbers; and an AWS Budgets cost budget with notifications at 80% and 100% of the limit
 * (actual) and 100% (forecast).
 */
import { Duration, Stack } from 'aws-cdk-lib';
import * as budgets from 'aws-cdk-lib/aws-budgets';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import type { ResolvedEnvironmentProps } from './environments';
import { API_METRICS, API_METRICS_DIMENSION, API_METRICS_NAMESPACE } from '../cloudwatch-metrics';

export interface ObservabilityProps extends ResolvedEnvironmentProps {
  readonly logsKey: kms.IKey;
  readonly athenaWorkGroupName: string;
}

export class Observability extends Construct {
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

    const dimensionsMap = { [API_METRICS_DIMENSION]: props.environment };
    const metric = (metricName: string, statistic: string, label: string): cloudwatch.Metric =>
      new cloudwatch.Metric({ namespace: API_METRICS_NAMESPACE, metricName, dimensionsMap, statistic, period: Duration.minutes(1), label });
    const latencyP95 = metric(API_METRICS.latency, 'p95', 'p95 latency (ms)');
    const requests = metric(API_METRICS.requests, 'Sum', 'requests');
    const serverErrors = metric(API_METRICS.serverErrors, 'Sum', '5xx responses');
    const errorRate = new cloudwatch.MathExpression({
      expression: 'IF(requests > 0, errors / requests, 0)',
      usingMetrics: { requests, errors: serverErrors },
      period: Duration.minutes(1),
      label: '5xx rate',
    });
    const drift = new cloudwatch.Metric({ namespace: API_METRICS_NAMESPACE, metricName: API_METRICS.drift, dimensionsMap, statistic: 'Maximum', period: Duration.hours(1), label: 'drift (PSI)' });

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
          new cloudwatch.GraphWidget({ title: 'API latency p95 (ms)', left: [latencyP95], leftAnnotations: [{ value: props.latencyP95AlarmMs, label: 'alarm' }], width: 8 }),
          new cloudwatch.GraphWidget({ title: 'API requests and 5xx', left: [requests], right: [serverErrors], width: 8 }),
          new cloudwatch.GraphWidget({ title: 'API 5xx rate', left: [errorRate], leftAnnotations: [{ value: props.errorRateAlarmThreshold, label: 'alarm' }], width: 8 }),
        ],
        [
          new cloudwatch.GraphWidget({ title: 'Prediction drift (PSI)', left: [drift], leftAnnotations: [{ value: props.driftAlarmThreshold, label: 'alarm' }], width: 8 }),
          new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: [this.latencyAlarm, this.errorRateAlarm, this.driftAlarm], width: 8 }),
          new cloudwatch.GraphWidget({ title: 'Athena bytes scanned', left: [athenaScanned], width: 8 }),
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
