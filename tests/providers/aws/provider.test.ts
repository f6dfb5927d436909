/**
 * The aws provider through the provider registry: created by name, options validated, and its SDKs
 * loaded only when it first talks to AWS (never by importing the registry or using `local`).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startS3Emulator, type S3Emulator } from '../../../providers/aws/emulator/s3';
import { temporaryDirectory } from '../../helpers/paths';

/** Which @aws-sdk modules were loaded in this test file's module graph (each mock records its first import). */
const loaded = vi.hoisted(() => new Set<string>());
vi.mock('@aws-sdk/client-s3', async (importOriginal) => {
  loaded.add('@aws-sdk/client-s3');
  return importOriginal();
});
vi.mock('@aws-sdk/lib-storage', async (importOriginal) => {
  loaded.add('@aws-sdk/lib-storage');
  return importOriginal();
});
vi.mock('@aws-sdk/client-sagemaker', async (importOriginal) => {
  loaded.add('@aws-sdk/client-sagemaker');
  return importOriginal();
});
vi.mock('@aws-sdk/client-glue', async (importOriginal) => {
  loaded.add('@aws-sdk/client-glue');
  return importOriginal();
});

const SETTINGS = {
  region: 'us-east-1',
  roleArn: 'arn:aws:iam::111122223333:role/retail-mlops-sagemaker-execution',
  image: '111122223333.dkr.ecr.us-east-1.amazonaws.com/retail-mlops-api:1.4.0',
};

describe('aws provider', () => {
  const scratch = temporaryDirectory('aws-provider-');
  let s3: S3Emulator | undefined;

  beforeAll(() => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'S3RVER');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'S3RVER');
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await s3?.close();
    scratch.remove();
  });

  it('loads no AWS SDK module when the registry is imported, the local provider used, or the aws provider opens its parts', async () => {
    const { createProvider, providerNames } = await import('../../../providers/registry.js');
    const { parseLocation } = await import('../../../providers/locations.js');
    expect(providerNames()).toEqual(['aws', 'azure', 'local']);
    const local = await createProvider('local');
    const localStorage = await local.openStorage(parseLocation(scratch.path));
    await localStorage.put('a/b.txt', new Uint8Array([1]));
    expect(await localStorage.list('a/')).toHaveLength(1);
    expect([...loaded]).toEqual([]);

    const aws = await createProvider('aws', { aws: { ...SETTINGS, kmsKeyId: 'alias/retail-mlops-data' } });
    expect(aws.name).toBe('aws');
    const lake = parseLocation('s3://retail-mlops-provider/lake');
    expect((await aws.openStorage(lake)).location).toBe('s3://retail-mlops-provider/lake');
    expect((await aws.openRegistry(parseLocation('s3://retail-mlops-provider/registry'))).provider).toBe('aws');
    const training = await aws.openTrainingBackend!({ lake, workDirectory: scratch.path });
    expect(training.algorithms).toContain('sagemaker-xgboost');
    expect([...loaded]).toEqual([]);

    // positive control: the first S3 call loads the S3 client (and nothing else); the endpoint comes from the SDK's own variable
    s3 = await startS3Emulator(['retail-mlops-provider']);
    vi.stubEnv('AWS_ENDPOINT_URL_S3', s3.endpoint);
    vi.stubEnv('AWS_REQUEST_CHECKSUM_CALCULATION', 'WHEN_REQUIRED');
    vi.stubEnv('AWS_RESPONSE_CHECKSUM_VALIDATION', 'WHEN_REQUIRED');
    const onEmulator = await (await createProvider('aws', { aws: { ...SETTINGS, forcePathStyle: true } })).openStorage(lake);
    await onEmulator.put('x.txt', new Uint8Array([1, 2]));
    expect(await onEmulator.head('x.txt')).toEqual({ key: 'x.txt', size: 2 });
    expect([...loaded]).toEqual(['@aws-sdk/client-s3']);
  });

  it('reports every problem of its settings at once', async () => {
    const { createProvider } = await import('../../../providers/registry.js');
    const error = await createProvider('aws', { aws: { region: 'mars', roleArn: 'role', subnetIds: ['subnet-1'] } }).catch((caught: unknown) => caught);
    expect((error as { code: string }).code).toBe('INVALID_OPTIONS');
    expect((error as { problems: string[] }).problems).toEqual([
      "aws.region 'mars' is not an AWS region such as eu-west-1",
      "aws.roleArn 'role' is not an IAM role ARN",
      "aws.subnetIds: 'subnet-1' is not a subnet id",
      'aws.subnetIds need aws.securityGroupIds',
    ]);
  });

  it('is listed by the registry, whose unknown-name error names it', async () => {
    const { createProvider } = await import('../../../providers/registry.js');
    const error = await createProvider('gcp').catch((caught: unknown) => caught);
    expect((error as { code: string }).code).toBe('PROVIDER_NOT_FOUND');
    expect((error as Error).message).toContain('aws, azure, local');
  });
});
