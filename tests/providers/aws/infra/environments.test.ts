import { App } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { ENVIRONMENTS, resolveEnvironmentProps } from '../../../../providers/aws/infra/environments';
import { RetailMlopsStack } from '../../../../providers/aws/infra/retail-mlops-stack';

describe('environment props', () => {
  it('fill in documented defaults', () => {
    const resolved = resolveEnvironmentProps({
      environment: 'dev',
      account: '123456789012',
      region: 'us-east-2',
      onDemandNodes: { instanceTypes: ['t3.large'], minSize: 1, desiredSize: 1, maxSize: 1 },
      spotNodes: { instanceTypes: ['m5.large', 'm6i.large'], minSize: 0, desiredSize: 0, maxSize: 2 },
    });
    expect(resolved).toMatchObject({
      vpcCidr: '10.0.0.0/16',
      maxAzs: 2,
      natGateways: 1,
      monthlyBudgetUsd: 500,
      removalPolicy: 'retain',
      rawInfrequentAccessAfterDays: 30,
      rawGlacierAfterDays: 90,
      apiNamespace: 'retail-mlops-dev',
      apiServiceAccount: 'retail-mlops-api',
    });
    for (const props of Object.values(ENVIRONMENTS)) expect(() => resolveEnvironmentProps(props)).not.toThrow();
  });

  it('report every problem at once, before any resource is created', () => {
    let caught: unknown;
    try {
      new RetailMlopsStack(new App(), 'Broken', {
        environment: 'dev',
        account: '12',
        region: 'Ireland',
        maxAzs: 4,
        onDemandNodes: { instanceTypes: [], minSize: 2, desiredSize: 1, maxSize: 1 },
        spotNodes: { instanceTypes: ['m5.large'], minSize: 0, desiredSize: 0, maxSize: 1 },
        rawInfrequentAccessAfterDays: 10,
        logRetentionDays: 42,
        notificationEmails: ['not-an-address'],
        pipelineOidc: { issuerUrl: 'http://insecure', audience: 'sts.amazonaws.com', subjects: ['*'] },
      });
    } catch (error) {
      caught = error;
    }
    expect((caught as { code: string }).code).toBe('INVALID_OPTIONS');
    const problems = (caught as { problems: string[] }).problems;
    expect(problems).toHaveLength(11);
    expect(problems.join('\n')).toMatch(/account must be a 12-digit/);
    expect(problems.join('\n')).toMatch(/spotNodes.instanceTypes should list at least two/);
    expect(problems.join('\n')).toMatch(/logRetentionDays must be one CloudWatch Logs offers/);
  });
});
