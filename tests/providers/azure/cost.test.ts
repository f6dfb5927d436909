/**
 * The cost tables in providers/azure/README.md are what infra/cost-estimate.ts computes from each
 * environment's template parameters, those parameters exist in the template, and production stays at
 * or under $500 a month on demand, on AKS and on an Azure ML endpoint.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderAzureDeploymentTemplate } from '../../../providers/azure/infra/azure-deployment-template';
import { deploymentParameters, estimateMonthlyCost, renderCostTable, SIZING, USAGE } from '../../../providers/azure/infra/cost-estimate';
import { REPO_ROOT } from '../../helpers/paths';

const readme = readFileSync(path.join(REPO_ROOT, 'providers/azure/README.md'), 'utf8');
const template = JSON.parse(renderAzureDeploymentTemplate()) as { parameters: Record<string, { allowedValues?: unknown[]; minValue?: number }> };

describe('Azure cost estimate', () => {
  it('keeps production at or under $500 a month on demand, on AKS and on a managed online endpoint', () => {
    for (const sizing of [SIZING.production, { ...SIZING.production, deployTarget: 'azureml' as const }]) {
      const total = estimateMonthlyCost(sizing, USAGE.production).at(-1)!;
      expect(total.onDemand).toBeLessThanOrEqual(500);
      expect(total.withSpot).toBeLessThanOrEqual(total.onDemand);
    }
    expect(SIZING.production.monthlyBudget).toBe(500);
  });

  it('sizes with parameters the template declares, with values it allows', () => {
    for (const sizing of Object.values(SIZING)) {
      for (const [name, value] of Object.entries(sizing)) {
        const parameter = template.parameters[name];
        expect(parameter, name).toBeDefined();
        if (parameter.allowedValues) expect(parameter.allowedValues, name).toContain(value);
        if (parameter.minValue !== undefined) expect(value as number, name).toBeGreaterThanOrEqual(parameter.minValue);
      }
    }
  });

  it('is what the README shows, with the production parameters to deploy it', () => {
    expect(readme).toContain(renderCostTable(estimateMonthlyCost(SIZING.dev, USAGE.dev)));
    expect(readme).toContain(renderCostTable(estimateMonthlyCost(SIZING.production, USAGE.production)));
    expect(readme).toContain(renderCostTable(estimateMonthlyCost({ ...SIZING.production, deployTarget: 'azureml' }, USAGE.production)));
    expect(readme).toContain(deploymentParameters(SIZING.production));
  });
});
