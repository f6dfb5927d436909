/**
 * The provider seam's resolver: flags > environment variables > .retail-mlops.json > the embedded
 * local default, every problem at once, locations checked against the provider before anything
 * talks to a cloud.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SETTINGS } from '../../core/config/settings';
import { InvalidOptionsError } from '../../core/errors';
import { InvalidEnvironmentError, resolveEnvironment } from '../../providers/environment';
import { REPO_ROOT, temporaryDirectory } from '../helpers/paths';

const directory = temporaryDirectory('environment-');
afterAll(() => directory.remove());

const settingsFile = {
  defaultEnvironment: 'dev',
  environments: {
    local: { provider: 'local', lake: 'data/lake', registry: 'data/registry' },
    dev: {
      provider: 'aws',
      lake: 's3://acme-ml-dev/lake',
      registry: 's3://acme-ml-dev/registry',
      aws: { region: 'eu-west-1', roleArn: 'arn:aws:iam::111122223333:role/sagemaker', image: '111122223333.dkr.ecr.eu-west-1.amazonaws.com/retail-mlops:1.0.0', subnetIds: ['subnet-0a1b2c3d'], securityGroupIds: ['sg-0a1b2c3d'] },
    },
    production: {
      provider: 'azure',
      lake: 'https://acmeml.blob.core.windows.net/lake',
      registry: 'https://acmeml.blob.core.windows.net/registry',
      azure: { subscriptionId: '00000000-0000-0000-0000-00000000000c', resourceGroup: 'rg-ml', workspace: 'mlw-acme', image: 'acme.azurecr.io/retail-mlops:1.0.0' },
    },
  },
};

function project(content: unknown = settingsFile): string {
  const folder = temporaryDirectory('project-');
  writeFileSync(path.join(folder.path, '.retail-mlops.json'), JSON.stringify(content));
  return folder.path;
}

function problemsOf(run: () => unknown): readonly string[] {
  try {
    run();
  } catch (error) {
    if (error instanceof InvalidOptionsError) return error.problems;
    throw error;
  }
  throw new Error('expected settings problems');
}

describe('resolveEnvironment', () => {
  it('without flags, variables or a settings file: the embedded local default, relative to the project directory', () => {
    const resolved = resolveEnvironment({ variables: {}, directory: directory.path });
    expect(resolved).toMatchObject({
      name: 'local',
      provider: 'local',
      lake: path.join(directory.path, '.retail-mlops/lake'),
      registry: path.join(directory.path, '.retail-mlops/registry'),
      landing: path.join(directory.path, '.retail-mlops/lake/landing'),
      backend: 'in-process',
      maxQuarantineRate: 0.01,
    });
    expect(resolved.origins).toMatchObject({ environment: 'default', provider: 'default', lake: 'default', backend: 'default' });
  });

  it('takes the file\'s default environment, its provider settings and the provider\'s backend', () => {
    const resolved = resolveEnvironment({ variables: {}, directory: project(), uses: ['lake', 'registry', 'training'] });
    expect(resolved).toMatchObject({ name: 'dev', provider: 'aws', lake: 's3://acme-ml-dev/lake', registry: 's3://acme-ml-dev/registry', landing: 's3://acme-ml-dev/lake/landing', backend: 'sagemaker' });
    expect(resolved.aws).toEqual(settingsFile.environments.dev.aws);
    expect(resolved.origins.lake).toBe('.retail-mlops.json environments.dev.lake');
  });

  it('lets variables override the file and flags override both, one setting at a time', () => {
    const folder = project();
    const variables = { RETAIL_MLOPS_ENVIRONMENT: 'production', RETAIL_MLOPS_AZURE_COMPUTE: 'gpu-cluster', RETAIL_MLOPS_REGISTRY: 'https://acmeml.blob.core.windows.net/models/team-a' };
    const byVariables = resolveEnvironment({ variables, directory: folder });
    expect(byVariables).toMatchObject({ name: 'production', provider: 'azure', backend: 'azureml', registry: 'https://acmeml.blob.core.windows.net/models/team-a' });
    expect(byVariables.azure.compute).toBe('gpu-cluster');
    expect(byVariables.origins).toMatchObject({ 'environment': 'RETAIL_MLOPS_ENVIRONMENT', 'registry': 'RETAIL_MLOPS_REGISTRY', 'azure.compute': 'RETAIL_MLOPS_AZURE_COMPUTE', 'lake': '.retail-mlops.json environments.production.lake' });
    const byFlags = resolveEnvironment({ variables, directory: folder, flags: { environment: 'local', registry: 'elsewhere/registry', backend: 'in-process' } });
    expect(byFlags).toMatchObject({ name: 'local', provider: 'local', lake: path.join(folder, 'data/lake'), registry: path.join(folder, 'elsewhere/registry'), backend: 'in-process' });
    expect(byFlags.origins).toMatchObject({ environment: 'flag --environment', registry: 'flag --registry' });
  });

  it('reads the SDKs\' own region variable after its own, and parses lists and booleans', () => {
    const resolved = resolveEnvironment({
      variables: { AWS_REGION: 'us-west-2', RETAIL_MLOPS_AWS_SUBNET_IDS: 'subnet-0a1b2c3d, subnet-1a2b3c4d', RETAIL_MLOPS_AWS_SECURITY_GROUP_IDS: 'sg-0a1b2c3d', RETAIL_MLOPS_AWS_SPOT: 'false' },
      directory: project(),
    });
    expect(resolved.aws).toMatchObject({ region: 'us-west-2', subnetIds: ['subnet-0a1b2c3d', 'subnet-1a2b3c4d'], spot: false });
    expect(resolved.origins['aws.region']).toBe('AWS_REGION');
    expect(resolveEnvironment({ variables: { AWS_REGION: 'us-west-2', RETAIL_MLOPS_AWS_REGION: 'eu-central-1' }, directory: project() }).aws.region).toBe('eu-central-1');
  });

  it('reports every problem at once: wrong provider for a location, an unknown provider or backend, missing and malformed options', () => {
    expect(problemsOf(() => resolveEnvironment({ variables: { RETAIL_MLOPS_PROVIDER: 'gcp', RETAIL_MLOPS_BACKEND: 'vertex' }, directory: directory.path }))).toEqual([
      "provider 'gcp' (RETAIL_MLOPS_PROVIDER) is not one of local, aws, azure",
      "backend 'vertex' (RETAIL_MLOPS_BACKEND) is not one of in-process, sagemaker, azureml",
    ]);
    const problems = problemsOf(() =>
      resolveEnvironment({
        flags: { provider: 'aws', lake: '/tmp/lake', registry: 'https://acmeml.blob.core.windows.net/registry', backend: 'azureml', maxQuarantineRate: '2' },
        variables: { RETAIL_MLOPS_AWS_ROLE_ARN: 'not-a-role', RETAIL_MLOPS_AWS_SPOT: 'sometimes' },
        directory: directory.path,
        uses: ['lake', 'registry', 'training'],
      }),
    );
    expect(problems).toEqual([
      "flag --max-quarantine-rate must be a number from 0 to 1, got '2'",
      "RETAIL_MLOPS_AWS_SPOT must be true or false, got 'sometimes'",
      "lake '/tmp/lake' (flag --lake) is a local directory, but the provider is aws (flag --provider): use s3://<bucket>/<prefix>",
      "registry 'https://acmeml.blob.core.windows.net/registry' (flag --registry) is a Blob Storage location, but the provider is aws (flag --provider): use s3://<bucket>/<prefix>",
      'backend azureml (flag --backend) trains on azure, but the provider is aws',
      'aws.region is required (RETAIL_MLOPS_AWS_REGION or AWS_REGION)',
      "aws.roleArn 'not-a-role' is not an IAM role ARN",
      "aws.image (RETAIL_MLOPS_AWS_IMAGE) is required: the registry mirrors versions into SageMaker model packages that name the project's image",
    ]);
  });

  it('asks only for what the use needs: training settings when training, none of them to serve', () => {
    const variables = { RETAIL_MLOPS_PROVIDER: 'azure', RETAIL_MLOPS_LAKE: 'https://acmeml.blob.core.windows.net/lake', RETAIL_MLOPS_REGISTRY: 'https://acmeml.blob.core.windows.net/registry' };
    const workspace = { RETAIL_MLOPS_AZURE_SUBSCRIPTION_ID: '00000000-0000-0000-0000-00000000000c', RETAIL_MLOPS_AZURE_RESOURCE_GROUP: 'rg-ml', RETAIL_MLOPS_AZURE_WORKSPACE: 'mlw-acme' };
    expect(resolveEnvironment({ variables: { ...variables, ...workspace }, directory: directory.path, uses: ['registry'] }).provider).toBe('azure');
    expect(problemsOf(() => resolveEnvironment({ variables: { ...variables, ...workspace }, directory: directory.path, uses: ['lake', 'registry', 'training'] }))).toEqual([
      'azure.image (RETAIL_MLOPS_AZURE_IMAGE) is required to train on Azure ML: the image jobs run in',
    ]);
    expect(resolveEnvironment({ variables: { ...variables, ...workspace, RETAIL_MLOPS_BACKEND: 'in-process' }, directory: directory.path, uses: ['training'] }).backend).toBe('in-process');
  });

  it('takes the provider from the locations when nobody names it, and refuses locations of two providers', () => {
    const inferred = resolveEnvironment({ flags: { registry: 's3://acme-ml-dev/registry' }, variables: { AWS_REGION: 'eu-west-1' }, directory: directory.path, uses: ['serving'] });
    expect(inferred).toMatchObject({ provider: 'aws', registry: 's3://acme-ml-dev/registry', backend: 'sagemaker' });
    expect(inferred.origins.provider).toBe('inferred from registry');
    expect(problemsOf(() => resolveEnvironment({ flags: { lake: 's3://acme-ml-dev/lake', registry: 'https://acmeml.blob.core.windows.net/registry' }, variables: {}, directory: directory.path }))).toContain(
      'lake (flag --lake) is an S3 location, registry (flag --registry) is a Blob Storage location: one environment lives on one provider',
    );
  });

  it('refuses an environment nobody describes, and a settings file of the wrong shape, naming what is there', () => {
    expect(problemsOf(() => resolveEnvironment({ flags: { environment: 'qa' }, variables: {}, directory: project() }))).toEqual([
      "no environment 'qa' in .retail-mlops.json (environments: local, dev, production); name one, or set RETAIL_MLOPS_PROVIDER and the locations",
    ]);
    const wrong = project({ environments: { dev: { provider: 'aws', bucket: 'x', aws: { region: 3, colour: 'blue' } } }, extra: true });
    const problems = problemsOf(() => resolveEnvironment({ variables: {}, directory: wrong }));
    expect(problems).toEqual(
      expect.arrayContaining([
        ".retail-mlops.json: unknown key 'extra' (known: gate, defaultEnvironment, environments)",
        ".retail-mlops.json: environments.dev has an unknown key 'bucket' (known: provider, lake, registry, landing, backend, maxQuarantineRate, aws, azure)",
        '.retail-mlops.json: environments.dev.aws.region must be a non-empty string',
        expect.stringMatching(/^\.retail-mlops\.json: environments\.dev\.aws has an unknown option 'colour' \(known: region, kmsKeyId, roleArn/),
      ]),
    );
  });

  it('throws one InvalidEnvironmentError naming the environment', () => {
    let thrown: unknown;
    try {
      resolveEnvironment({ variables: { RETAIL_MLOPS_PROVIDER: 'aws' }, directory: directory.path });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InvalidEnvironmentError);
    expect((thrown as InvalidEnvironmentError).message).toMatch(/^invalid settings of environment 'local': lake is required for provider aws/);
  });
});

describe('the settings table', () => {
  it('is documented in README, one row per variable (the docs cannot fall behind the code)', () => {
    const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
    for (const setting of SETTINGS) expect(readme, setting.variable).toMatch(new RegExp(`^\\| \`${setting.variable}\`.*\\| \`${setting.key.replace('.', '\\.')}\`: `, 'm'));
  });
});
