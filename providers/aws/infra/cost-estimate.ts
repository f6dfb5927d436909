/**
 * The monthly cost of an environment's default sizing, line by line with its arithmetic, from the
 * environment's props (so the estimate follows the sizing: the README's tables are this module's
 * output, and a test fails when they drift or production passes $500).
 *
 * Prices: on-demand list prices for eu-west-1 (Ireland) in USD as known in 2024–2025, not checked
 * against the live price list here (no network): verify with the AWS Pricing Calculator. 730 hours a
 * month. "With spot": EC2 spot at ~35% of on-demand and SageMaker managed spot training at ~30%.
 * Usage (traffic, data, logs, training hours) is an assumption stated per environment below.
 */
import type { ResolvedEnvironmentProps } from './environments';
import { CostLines, renderCostTable as renderLines, type CostLine } from '../../cost-lines';


const HOURS = 730;
/** On-demand $/hour of the instance types the environments use. */
export const EC2_HOURLY: Readonly<Record<string, number>> = {
  't3.large': 0.0912,
  'c6i.large': 0.091,
  'c5.large': 0.096,
  'c5a.large': 0.086,
  'm5.large': 0.107,
  'm5a.large': 0.096,
  'm6i.large': 0.107,
  'm6a.large': 0.0963,
};
export const SAGEMAKER_HOSTING_HOURLY: Readonly<Record<string, number>> = { 'ml.c6i.large': 0.115, 'ml.c5.large': 0.115, 'ml.m5.large': 0.129 };
const SPOT_FACTOR = 0.35;
const MANAGED_SPOT_TRAINING_FACTOR = 0.3;
const PRICES = {
  eksControlPlaneHourly: 0.1,
  gp3PerGbMonth: 0.088,
  nodeVolumeGb: 20,
  natHourly: 0.048,
  natPerGb: 0.048,
  interfaceEndpointHourly: 0.011,
  interfaceEndpointPerGb: 0.01,
  albHourly: 0.0252,
  lcuHourly: 0.008,
  logsIngestPerGb: 0.57,
  trainingHourly: 0.26,
  athenaPerTb: 5,
} as const;

/** What an environment is assumed to use in a month. */
export interface UsageAssumptions {
  readonly natGb: number;
  readonly endpointGb: number;
  readonly albLcu: number;
  /** S3 storage and requests (see the README's S3 line). */
  readonly s3Usd: number;
  readonly kmsUsd: number;
  readonly logsGb: number;
  readonly logsStorageUsd: number;
  /** Custom metrics, alarms, dashboard. */
  readonly metricsUsd: number;
  /** Container Insights (the CloudWatch observability add-on): metrics and Fluent Bit logs. */
  readonly observabilityUsd: number;
  readonly ecrUsd: number;
  readonly trainingHours: number;
  readonly athenaTb: number;
}

export const USAGE: { readonly [E in ResolvedEnvironmentProps['environment']]: UsageAssumptions } = {
  dev: {
    natGb: 20,
    endpointGb: 20,
    albLcu: 1,
    s3Usd: 2.15,
    kmsUsd: 4,
    logsGb: 10,
    logsStorageUsd: 0.3,
    metricsUsd: 4.6,
    observabilityUsd: 8,
    ecrUsd: 0.5,
    trainingHours: 10,
    athenaTb: 0.1,
  },
  staging: {
    natGb: 50,
    endpointGb: 50,
    albLcu: 1,
    s3Usd: 5,
    kmsUsd: 5,
    logsGb: 15,
    logsStorageUsd: 0.5,
    metricsUsd: 4.6,
    observabilityUsd: 12,
    ecrUsd: 1,
    trainingHours: 20,
    athenaTb: 0.3,
  },
  production: {
    natGb: 100,
    endpointGb: 100,
    albLcu: 2,
    s3Usd: 11.65,
    kmsUsd: 8,
    logsGb: 20,
    logsStorageUsd: 0.6,
    metricsUsd: 4.6,
    observabilityUsd: 20.7,
    ecrUsd: 1,
    trainingHours: 60,
    athenaTb: 1,
  },
};


function hourly(table: Readonly<Record<string, number>>, type: string): number {
  const price = table[type];
  if (price === undefined) throw new Error(`no price for ${type}: add it to providers/aws/infra/cost-estimate.ts`);
  return price;
}

/** The environment's monthly cost, line by line (the last line is the total). */
export function estimateMonthlyCost(props: ResolvedEnvironmentProps, usage: UsageAssumptions = USAGE[props.environment]): CostLine[] {
  const lines = new CostLines();
  const add = lines.add.bind(lines);
  if (props.deployTarget === 'eks') {
    add('EKS control plane', `1 × $${PRICES.eksControlPlaneHourly}/h × ${HOURS} h`, PRICES.eksControlPlaneHourly * HOURS);
    const onDemandType = props.onDemandNodes.instanceTypes[0];
    const onDemandNodes = props.onDemandNodes.desiredSize;
    add('on-demand nodes', `${onDemandNodes} × ${onDemandType} × $${hourly(EC2_HOURLY, onDemandType)}/h × ${HOURS} h`, onDemandNodes * hourly(EC2_HOURLY, onDemandType) * HOURS);
    const spotType = props.spotNodes.instanceTypes[0];
    const spotNodes = props.spotNodes.desiredSize;
    const spotOnDemand = spotNodes * hourly(EC2_HOURLY, spotType) * HOURS;
    add('spot nodes', `${spotNodes} × ${spotType} × $${hourly(EC2_HOURLY, spotType)}/h × ${HOURS} h; × ${SPOT_FACTOR} on spot`, spotOnDemand, spotOnDemand * SPOT_FACTOR);
    const volumes = onDemandNodes + spotNodes;
    add('node volumes', `${volumes} × ${PRICES.nodeVolumeGb} GB gp3 × $${PRICES.gp3PerGbMonth}/GB`, volumes * PRICES.nodeVolumeGb * PRICES.gp3PerGbMonth);
    add('ALB (the load balancer controller makes it from the Ingress)', `$${PRICES.albHourly}/h × ${HOURS} h + ${usage.albLcu} LCU × $${PRICES.lcuHourly}/h × ${HOURS} h`, (PRICES.albHourly + usage.albLcu * PRICES.lcuHourly) * HOURS);
    add('Container Insights (CloudWatch observability add-on)', 'node and pod metrics, Fluent Bit logs (estimate)', usage.observabilityUsd);
    add('kubectl provider (Lambda, deploy time only)', 'free tier', 0);
  } else {
    const type = props.endpoint.instanceType;
    const instances = props.endpoint.minInstances;
    add('SageMaker endpoint (scales in to the minimum)', `${instances} × ${type} × $${hourly(SAGEMAKER_HOSTING_HOURLY, type)}/h × ${HOURS} h`, instances * hourly(SAGEMAKER_HOSTING_HOURLY, type) * HOURS);
  }
  add('NAT gateways', `${props.natGateways} × $${PRICES.natHourly}/h × ${HOURS} h + ${usage.natGb} GB × $${PRICES.natPerGb}/GB`, props.natGateways * PRICES.natHourly * HOURS + usage.natGb * PRICES.natPerGb);
  const endpoints = props.interfaceEndpoints.length;
  add(
    'interface endpoints',
    `${endpoints} (${props.interfaceEndpoints.join(', ')}) × ${props.maxAzs} AZs × $${PRICES.interfaceEndpointHourly}/h × ${HOURS} h + ${usage.endpointGb} GB × $${PRICES.interfaceEndpointPerGb}/GB`,
    endpoints * props.maxAzs * PRICES.interfaceEndpointHourly * HOURS + (endpoints > 0 ? usage.endpointGb * PRICES.interfaceEndpointPerGb : 0),
  );
  add('S3', 'lake (Standard → IA → Glacier IR), registry, requests', usage.s3Usd);
  add('KMS', '3 keys × $1 + requests', usage.kmsUsd);
  add('CloudWatch Logs', `${usage.logsGb} GB × $${PRICES.logsIngestPerGb}/GB + storage (${props.logRetentionDays} days)`, usage.logsGb * PRICES.logsIngestPerGb + usage.logsStorageUsd);
  add('CloudWatch metrics, alarms, dashboard', '4 metrics × $0.30 + 4 alarms × $0.10 + 1 dashboard × $3', usage.metricsUsd);
  add('ECR', 'images (last 100 kept)', usage.ecrUsd);
  add('SageMaker training', `${usage.trainingHours} h ml.m5.xlarge × $${PRICES.trainingHourly}/h; × ${MANAGED_SPOT_TRAINING_FACTOR} on managed spot`, usage.trainingHours * PRICES.trainingHourly, usage.trainingHours * PRICES.trainingHourly * MANAGED_SPOT_TRAINING_FACTOR);
  add('Athena', `${usage.athenaTb} TB scanned × $${PRICES.athenaPerTb}/TB`, usage.athenaTb * PRICES.athenaPerTb);
  add('CloudTrail, Glue catalog, Budgets, SNS', 'free tiers and cents', 0.1);
  return lines.withTotal();
}

/** The Markdown table the README holds. */
export function renderCostTable(lines: readonly CostLine[]): string {
  return renderLines(lines, { onDemand: 'on-demand', withSpot: 'with spot' });
}
