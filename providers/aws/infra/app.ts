/**
 * The CDK app: one RetailMlopsStack per environment (environments.ts), checked by cdk-nag's
 * AWS Solutions rules during synthesis (a finding that is not acknowledged with a reason fails the
 * synth). `npm run aws:synth` runs it through the CDK CLI, offline: the availability zones of
 * each environment's account and region are seeded in cdk.context.json.
 *
 *   npm run aws:synth                         all environments → providers/aws/infra/cdk.out
 *   npm run aws:synth -- -c environment=dev   one environment
 *   npm run aws:deploy -- RetailMlops-dev     deploy (credentials: see providers/aws/README.md)
 *   npm run aws:destroy -- RetailMlops-dev    tear down (data of `retain` environments stays)
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { AWS_ENVIRONMENTS, ENVIRONMENTS, type AwsEnvironmentName } from './environments';
import { RetailMlopsStack } from './retail-mlops-stack';

/** Feature flags, set here (not in cdk.json) so the CLI and the tests synthesize the same templates. */
export const FEATURE_FLAGS: Readonly<Record<string, boolean>> = {
  '@aws-cdk/aws-iam:minimizePolicies': true,
  '@aws-cdk/core:checkSecretUsage': true,
  '@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy': true,
  '@aws-cdk/aws-eks:useNativeOidcProvider': true,
};

/** The seeded context (cdk.context.json, availability zones) and the feature flags: the app synthesizes the same with or without the CLI. */
export function seededContext(): Record<string, unknown> {
  return { ...FEATURE_FLAGS, ...(JSON.parse(readFileSync(path.join(__dirname, 'cdk.context.json'), 'utf8')) as Record<string, unknown>) };
}

export interface RetailMlopsAppOptions {
  /** @default - every environment */
  readonly environments?: readonly AwsEnvironmentName[];
  /** @default - the CLI's output directory, else `cdk.out` beside this file */
  readonly outdir?: string;
}

/** Builds the app with its stacks and the cdk-nag checks (nothing is synthesized yet). */
export function createRetailMlopsApp(options: RetailMlopsAppOptions = {}): { readonly app: App; readonly stacks: readonly RetailMlopsStack[] } {
  const app = new App({ context: seededContext(), ...(options.outdir ? { outdir: options.outdir } : {}) });
  const only = app.node.tryGetContext('environment') as string | undefined;
  const names = options.environments ?? (only ? (only.split(',') as AwsEnvironmentName[]) : AWS_ENVIRONMENTS);
  const stacks = names.map((name) => new RetailMlopsStack(app, `RetailMlops-${name}`, ENVIRONMENTS[name]));
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stacks };
}

if (require.main === module) {
  createRetailMlopsApp().app.synth();
}
