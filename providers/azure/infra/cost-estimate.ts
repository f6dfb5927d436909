/**
 * The monthly cost of each environment's sizing on Azure, line by line with its arithmetic. The
 * sizing is the set of template parameters an environment deploys with (`SIZING`, rendered as the
 * `--parameters` of `az deployment group create` in the README); the README's tables are this
 * module's output and a test fails when they drift or production passes $500.
 *
 * Prices: Linux pay-as-you-go list prices in East US, USD, as known in 2025, not checked against a
 * live price sheet here (no network): verify with the Azure pricing calculator. 730 hours a month.
 * "Spot / low priority": Azure ML low-priority training at ~20% of on-demand.
 */

import { CostLines, renderCostTable as renderLines, type CostLine } from '../../cost-lines';

const HOURS = 730;
export const VM_HOURLY: Readonly<Record<string, number>> = {
  Standard_D2s_v5: 0.096,
  Standard_D4s_v5: 0.192,
  Standard_D4s_v3: 0.192,
  Standard_F2s_v2: 0.0846,
  Standard_DS2_v2: 0.146,
};
const LOW_PRIORITY_FACTOR = 0.2;
const PRICES = {
  aksStandardHourly: 0.1,
  /** P10 managed disk (128 GiB), the node pools' default OS disk. */
  osDiskMonthly: 19.71,
  loadBalancerHourly: 0.025,
  loadBalancerPerGb: 0.005,
  publicIpHourly: 0.005,
  acrMonthly: { Basic: 5, Standard: 20, Premium: 50 } as Readonly<Record<string, number>>,
  logAnalyticsPerGb: 2.3,
  alertRuleMonthly: 1.5,
} as const;

/** The template parameters that decide the bill (the rest keep their defaults). */
export interface AzureSizing {
  readonly deployTarget: 'aks' | 'azureml';
  readonly aksTier: 'Free' | 'Standard';
  readonly systemNodeVmSize: string;
  readonly systemNodeMinCount: number;
  readonly systemNodeMaxCount: number;
  readonly spotNodeMaxCount: number;
  readonly trainingVmSize: string;
  readonly acrSku: 'Basic' | 'Standard' | 'Premium';
  readonly logRetentionDays: number;
  readonly monthlyBudget: number;
  readonly endpointInstanceType: string;
  readonly endpointMinInstances: number;
  readonly endpointMaxInstances: number;
}

/** What an environment is assumed to use in a month. */
export interface AzureUsage {
  readonly loadBalancerGb: number;
  readonly lakeUsd: number;
  readonly logsGb: number;
  readonly otherUsd: number;
  readonly trainingHours: number;
}

const dev: AzureSizing = {
  deployTarget: 'aks',
  aksTier: 'Free',
  systemNodeVmSize: 'Standard_D2s_v5',
  systemNodeMinCount: 1,
  systemNodeMaxCount: 3,
  spotNodeMaxCount: 3,
  trainingVmSize: 'Standard_D4s_v3',
  acrSku: 'Standard',
  logRetentionDays: 30,
  monthlyBudget: 500,
  endpointInstanceType: 'Standard_F2s_v2',
  endpointMinInstances: 1,
  endpointMaxInstances: 3,
};

/**
 * Each environment's parameters. Production: the uptime SLA (Standard tier) and three system nodes,
 * one per zone (the API's three replicas spread over zones), of the 2-vCPU size; the spot pool idles at
 * zero nodes; logs kept 30 days, Container Insights without performance counters.
 */
export const SIZING: { readonly dev: AzureSizing; readonly staging: AzureSizing; readonly production: AzureSizing } = {
  dev,
  staging: { ...dev, systemNodeMinCount: 2 },
  production: { ...dev, aksTier: 'Standard', systemNodeMinCount: 3, systemNodeMaxCount: 5, endpointMinInstances: 2, endpointMaxInstances: 4 },
};

export const USAGE: { readonly [E in keyof typeof SIZING]: AzureUsage } = {
  dev: { loadBalancerGb: 20, lakeUsd: 1.21, logsGb: 3, otherUsd: 2, trainingHours: 10 },
  staging: { loadBalancerGb: 50, lakeUsd: 4, logsGb: 6, otherUsd: 3, trainingHours: 20 },
  production: { loadBalancerGb: 100, lakeUsd: 12.3, logsGb: 10, otherUsd: 5, trainingHours: 60 },
};

function hourly(size: string): number {
  const price = VM_HOURLY[size];
  if (price === undefined) throw new Error(`no price for ${size}: add it to providers/azure/infra/cost-estimate.ts`);
  return price;
}

export function estimateMonthlyCost(sizing: AzureSizing, usage: AzureUsage): CostLine[] {
  const lines = new CostLines();
  const add = lines.add.bind(lines);
  if (sizing.deployTarget === 'aks') {
    add('AKS control plane', sizing.aksTier === 'Standard' ? `Standard tier $${PRICES.aksStandardHourly}/h × ${HOURS} h` : 'Free tier', sizing.aksTier === 'Standard' ? PRICES.aksStandardHourly * HOURS : 0);
    const nodes = sizing.systemNodeMinCount;
    add('system pool (runs the API, Argo CD)', `${nodes} × ${sizing.systemNodeVmSize} × $${hourly(sizing.systemNodeVmSize)}/h × ${HOURS} h`, nodes * hourly(sizing.systemNodeVmSize) * HOURS);
    add('node OS disks', `${nodes} × P10 $${PRICES.osDiskMonthly}`, nodes * PRICES.osDiskMonthly);
    add('spot pool', `0 nodes at rest (0…${sizing.spotNodeMaxCount}, interruptible jobs only)`, 0);
    add(
      'load balancer + public IP',
      `($${PRICES.loadBalancerHourly} + $${PRICES.publicIpHourly})/h × ${HOURS} h + ${usage.loadBalancerGb} GB × $${PRICES.loadBalancerPerGb}`,
      (PRICES.loadBalancerHourly + PRICES.publicIpHourly) * HOURS + usage.loadBalancerGb * PRICES.loadBalancerPerGb,
    );
    add('bootstrap deployment script', 'a few container minutes per deployment', 0.1);
  } else {
    const instances = sizing.endpointMinInstances;
    add('Azure ML online endpoint (scales in to the minimum)', `${instances} × ${sizing.endpointInstanceType} × $${hourly(sizing.endpointInstanceType)}/h × ${HOURS} h`, instances * hourly(sizing.endpointInstanceType) * HOURS);
  }
  add('container registry', `${sizing.acrSku}`, PRICES.acrMonthly[sizing.acrSku]);
  add('lake storage + transactions', 'hot → cool → archive lifecycle', usage.lakeUsd);
  add('Log Analytics', `${usage.logsGb} GB × $${PRICES.logAnalyticsPerGb}/GB (ContainerLogV2, events, inventory; ${sizing.logRetentionDays} days)`, usage.logsGb * PRICES.logAnalyticsPerGb);
  add('alert rules', `3 × $${PRICES.alertRuleMonthly}`, 3 * PRICES.alertRuleMonthly);
  add('Key Vault, App Insights, Azure ML storage', 'small', usage.otherUsd);
  const training = usage.trainingHours * hourly(sizing.trainingVmSize);
  add('Azure ML training', `${usage.trainingHours} h × ${sizing.trainingVmSize} × $${hourly(sizing.trainingVmSize)}/h; × ${LOW_PRIORITY_FACTOR} low priority`, training, training * LOW_PRIORITY_FACTOR);
  return lines.withTotal();
}

/** The Markdown table the README holds. */
export function renderCostTable(lines: readonly CostLine[]): string {
  return renderLines(lines, { onDemand: 'on demand', withSpot: 'low priority' });
}

/** `name=value …` for `az deployment group create --parameters` (what differs from the template's defaults is all of it here). */
export function deploymentParameters(sizing: AzureSizing): string {
  return Object.entries(sizing)
    .map(([name, value]) => `${name}=${String(value)}`)
    .join(' ');
}
