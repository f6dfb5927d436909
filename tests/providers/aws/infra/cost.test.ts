/**
 * The cost tables in providers/aws/README.md are what infra/cost-estimate.ts computes from the
 * environments' props (so they follow the sizing), and production stays at or under $500 a month at
 * on-demand prices, on either deploy target.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { estimateMonthlyCost, renderCostTable } from '../../../../providers/aws/infra/cost-estimate';
import { ENVIRONMENTS, resolveEnvironmentProps } from '../../../../providers/aws/infra/environments';
import { REPO_ROOT } from '../../../helpers/paths';

const readme = readFileSync(path.join(REPO_ROOT, 'providers/aws/README.md'), 'utf8');
const total = (props: Parameters<typeof resolveEnvironmentProps>[0]) => estimateMonthlyCost(resolveEnvironmentProps(props)).at(-1)!;

describe('AWS cost estimate', () => {
  it('keeps production at or under $500 a month on demand, on EKS and on a SageMaker endpoint', () => {
    for (const props of [ENVIRONMENTS.production, { ...ENVIRONMENTS.production, deployTarget: 'sagemaker' as const }]) {
      const line = total(props);
      expect(line.onDemand).toBeLessThanOrEqual(500);
      expect(line.withSpot).toBeLessThanOrEqual(line.onDemand);
    }
    expect(resolveEnvironmentProps(ENVIRONMENTS.production).monthlyBudgetUsd).toBe(500);
  });

  it('adds up: the total is the sum of the lines, and each sizing change moves it', () => {
    const lines = estimateMonthlyCost(resolveEnvironmentProps(ENVIRONMENTS.production));
    const sum = lines.slice(0, -1).reduce((accumulated, line) => accumulated + line.onDemand, 0);
    expect(lines.at(-1)!.onDemand).toBeCloseTo(sum, 1);
    expect(total({ ...ENVIRONMENTS.production, natGateways: 2 }).onDemand).toBeCloseTo(total(ENVIRONMENTS.production).onDemand + 35.04, 1);
    expect(total({ ...ENVIRONMENTS.production, interfaceEndpoints: ['Sts', 'EcrApi', 'EcrDocker', 'Glue'] }).onDemand).toBeCloseTo(total(ENVIRONMENTS.production).onDemand + 16.06, 1);
  });

  it('is what the README shows, table for table', () => {
    expect(readme).toContain(renderCostTable(estimateMonthlyCost(resolveEnvironmentProps(ENVIRONMENTS.dev))));
    expect(readme).toContain(renderCostTable(estimateMonthlyCost(resolveEnvironmentProps(ENVIRONMENTS.production))));
    expect(readme).toContain(renderCostTable(estimateMonthlyCost(resolveEnvironmentProps({ ...ENVIRONMENTS.production, deployTarget: 'sagemaker' }))));
  });
});
