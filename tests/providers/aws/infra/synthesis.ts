/** Synthesizes the infra app once per test file (cdk-nag runs as part of it) and reads the templates back. */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { createRetailMlopsApp } from '../../../../providers/aws/infra/app';
import type { AwsEnvironmentName } from '../../../../providers/aws/infra/environments';

export interface Synthesized {
  readonly outdir: string;
  /** The raw template of an environment's stack. */
  json(environment: AwsEnvironmentName): Record<string, unknown>;
  template(environment: AwsEnvironmentName): Template;
}

export function synthesizeAll(outdir: string, environments?: readonly AwsEnvironmentName[]): Synthesized {
  const { app } = createRetailMlopsApp({ outdir, environments });
  app.synth();
  const json = (environment: AwsEnvironmentName): Record<string, unknown> =>
    JSON.parse(readFileSync(path.join(outdir, `RetailMlops-${environment}.template.json`), 'utf8')) as Record<string, unknown>;
  return { outdir, json, template: (environment) => Template.fromJSON(json(environment)) };
}

/** The violations of the synthesis's validation report (none when there is no report). */
export function reportedViolations(outdir: string): { readonly rule: string; readonly path: string }[] {
  let report: { pluginReports: { violations: { ruleName: string; violatingConstructs: { constructPath: string }[] }[] }[] };
  try {
    report = JSON.parse(readFileSync(path.join(outdir, 'validation-report.json'), 'utf8')) as typeof report;
  } catch {
    return [];
  }
  return report.pluginReports.flatMap((plugin) =>
    plugin.violations.flatMap((violation) =>
      violation.violatingConstructs.map((construct) => ({ rule: violation.ruleName, path: construct.constructPath })),
    ),
  );
}
