/**
 * A team repository's infrastructure entry, built from the template's constructs: on AWS the CDK app
 * (`infra/main.ts`, one RetailMlopsStack per environment, cdk-nag checked) with its environments and
 * seeded context as generated JSON; on Azure the ARM template (`infra/azuredeploy.json`).
 */
import { JsonFile, SourceCode, type Project } from 'projen';
import { Cloud } from './options';
import { TEMPLATE_PACKAGE, type ProjectSettings } from './project-settings';
import { ENVIRONMENTS, type AwsEnvironmentName, type RetailMlopsEnvironmentProps } from '../../providers/aws/infra/environments';
import { buildAzureDeploymentTemplate } from '../../providers/azure/infra/azure-deployment-template';

/** What the infrastructure entry needs installed (synth time only: dev dependencies). */
export function infrastructureDependencies(cloud: Cloud): string[] {
  // the versions the template's own infrastructure is built and tested with (aws-cdk 2.1148.x: 3.x rejects the 2.x cloud assembly)
  return cloud === Cloud.AWS ? ['aws-cdk-lib@^2.276.0', 'cdk-nag@^3.0.2', 'aws-cdk@2.1148.1'] : [];
}

const cdkFlags = '--no-notices --no-version-reporting';

function renderAwsInfrastructure(project: Project, settings: ProjectSettings): void {
  const environments: RetailMlopsEnvironmentProps[] = settings.environments
    .filter((environment) => environment.provider === Cloud.AWS && environment.name in ENVIRONMENTS)
    .map((environment) => {
      const template = ENVIRONMENTS[environment.name as AwsEnvironmentName];
      return {
        ...template,
        account: environment.options.aws?.account ?? template.account,
        region: environment.options.aws?.region ?? template.region,
      };
    });
  new JsonFile(project, 'infra/aws-environments.json', { obj: { environments } });
  // the availability zones of each account and region, so `cdk synth` runs offline (no context lookups)
  const zones = Object.fromEntries(
    environments.map((environment) => [
      `availability-zones:account=${environment.account}:region=${environment.region}`,
      ['a', 'b', 'c'].map((zone) => `${environment.region}${zone}`),
    ]),
  );
  new JsonFile(project, 'infra/cdk.context.json', { obj: zones, marker: false });
  new JsonFile(project, 'infra/cdk.json', { obj: { app: 'npx tsx main.ts', output: 'cdk.out' }, marker: false });
  const app = new SourceCode(project, 'infra/main.ts');
  for (const line of [
    `// ${app.marker}`,
    '/**',
    ' * The CDK app: one RetailMlopsStack per environment of .projenrc.ts (infra/aws-environments.json), checked by',
    ' * cdk-nag\'s AWS Solutions rules (an unacknowledged finding fails the synth). Run from infra/ by the CDK CLI:',
    ' *   npm run infra:synth                         every environment → infra/cdk.out (offline: zones in cdk.context.json)',
    ' *   npm run infra:deploy -- RetailMlops-dev     deploy one',
    ' */',
    "import { App, Validations } from 'aws-cdk-lib';",
    "import { AwsSolutionsChecks } from 'cdk-nag';",
    `import { FEATURE_FLAGS, RetailMlopsStack, type RetailMlopsEnvironmentProps } from '${TEMPLATE_PACKAGE}/providers/aws/infra';`,
    "import settings from './aws-environments.json';",
    '',
    'const app = new App({ context: { ...FEATURE_FLAGS } });',
    'for (const environment of settings.environments as RetailMlopsEnvironmentProps[]) {',
    '  new RetailMlopsStack(app, `RetailMlops-${environment.environment}`, environment);',
    '}',
    'Validations.of(app).addPlugins(new AwsSolutionsChecks(app));',
    'app.synth();',
  ]) app.line(line);
  for (const [name, command, description] of [
    ['infra:synth', `cd infra && cdk synth --quiet ${cdkFlags}`, 'Synthesizes the AWS stacks offline into infra/cdk.out (cdk-nag checks included)'],
    ['infra:diff', `cd infra && cdk diff ${cdkFlags}`, 'Shows what deploying the AWS stacks would change'],
    ['infra:deploy', `cd infra && cdk deploy ${cdkFlags}`, 'Deploys AWS stacks: npm run infra:deploy -- RetailMlops-dev'],
  ] as const) {
    project.addTask(name, { description, exec: command, receiveArgs: true });
  }
}

function renderAzureInfrastructure(project: Project): void {
  // an ARM template admits no comment key: the marker is in the template's metadata instead
  const template = buildAzureDeploymentTemplate().toJson() as Record<string, unknown>;
  const metadata = { ...(template.metadata as Record<string, unknown> | undefined), generator: `${TEMPLATE_PACKAGE} (.projenrc.ts): do not edit, run npx projen` };
  new JsonFile(project, 'infra/azuredeploy.json', { obj: { ...template, metadata }, marker: false });
  project.addTask('infra:deploy', {
    description: 'Deploys one environment: npm run infra:deploy -- --resource-group <group> --parameters environment=dev',
    exec: 'az deployment group create --template-file infra/azuredeploy.json',
    receiveArgs: true,
  });
}

/** Renders the cloud's infrastructure entry (nothing for the local cloud). */
export function renderTeamInfrastructure(project: Project, settings: ProjectSettings): void {
  if (settings.cloud === Cloud.AWS) renderAwsInfrastructure(project, settings);
  if (settings.cloud === Cloud.AZURE) renderAzureInfrastructure(project);
}
