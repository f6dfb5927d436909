/**
 * cdk-nag's AWS Solutions checks run on every synthesis of the infra app: zero findings are left
 * unacknowledged, every acknowledgment carries a written reason, none is stale (each matches a real
 * finding), and the checks do run (a stack with a bare bucket fails).
 */
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { Construct } from 'constructs';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { reportedViolations, synthesizeAll } from './synthesis';
import { temporaryDirectory } from '../../../helpers/paths';

/** Whether `acknowledge` was called by the infra code itself (aws-cdk-lib acknowledges a few of its own rules internally). */
function calledByInfra(): boolean {
  const frames = (new Error().stack ?? '').split('\n').slice(1).filter((frame) => !frame.includes('nag.test.ts') && !frame.includes('tinyspy') && !frame.includes('@vitest'));
  return frames[0]?.includes('providers/aws/infra/') ?? false;
}

const validationsPrototype = Object.getPrototypeOf(Validations.of(new Construct(undefined as unknown as Construct, 'probe'))) as {
  acknowledge(acknowledgment: { id: string; reason: string }): void;
};

describe('cdk-nag AwsSolutionsChecks on every environment', () => {
  const scratch = temporaryDirectory('infra-nag-');
  afterEach(() => vi.restoreAllMocks());
  afterAll(() => scratch.remove());

  it('leaves no finding unacknowledged; every acknowledgment has a reason and matches a real finding', () => {
    const acknowledged: { id: string; reason: string }[] = [];
    const original = validationsPrototype.acknowledge;
    vi.spyOn(validationsPrototype, 'acknowledge').mockImplementation(function (this: unknown, acknowledgment) {
      if (calledByInfra()) acknowledged.push(acknowledgment);
      original.call(this, acknowledgment);
    });
    const outdir = `${scratch.path}/acknowledged`;
    expect(() => synthesizeAll(outdir)).not.toThrow();
    expect(reportedViolations(outdir)).toEqual([]);
    expect(acknowledged.length).toBeGreaterThan(20);
    for (const { id, reason } of acknowledged) {
      expect(id).toMatch(/^(AwsSolutions-[A-Z]+\d+(\[.+\])?|CloudFormation-Validate::[EWF]\d+|W\d+)$/);
      expect(reason.length, `the reason of ${id}`).toBeGreaterThanOrEqual(40);
    }

    // the same app without any acknowledgment: exactly the acknowledged findings appear
    vi.restoreAllMocks();
    vi.spyOn(validationsPrototype, 'acknowledge').mockImplementation(function (this: unknown, acknowledgment) {
      if (!calledByInfra()) original.call(this, acknowledgment);
    });
    const bare = `${scratch.path}/bare`;
    expect(() => synthesizeAll(bare)).toThrow();
    const findings = new Set(reportedViolations(bare).map((violation) => violation.rule.replace(/^CloudFormation-Validate::/, '')));
    const ids = new Set(acknowledged.map((acknowledgment) => acknowledgment.id.replace(/^CloudFormation-Validate::/, '')));
    expect([...ids].filter((id) => !findings.has(id)), 'stale acknowledgments').toEqual([]);
    expect([...findings].filter((finding) => !ids.has(finding)), 'findings without an acknowledgment').toEqual([]);
  });

  it('does run: a stack with a bare bucket fails synthesis with AwsSolutions findings', () => {
    const outdir = `${scratch.path}/control`;
    const app = new App({ outdir });
    const stack = new Stack(app, 'Control', { env: { account: '111111111111', region: 'eu-west-1' } });
    new s3.Bucket(stack, 'Bare');
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).toThrow();
    expect(reportedViolations(outdir).map((violation) => violation.rule)).toEqual(expect.arrayContaining(['AwsSolutions-S1', 'AwsSolutions-S10']));
  });
});
