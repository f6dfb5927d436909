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

const BASE_OPTIONS = {
  region: 'us-east-1',
  bucket: 'retail-mlops-provider',
  roleArn: 'arn:aws:iam::111122223333:role/retail-mlops-sagemaker-execution',
  servingImage: '111122223333.dkr.ecr.us-east-1.amazonaws.com/retail-mlops-api:1.4.0',
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

  it('loads no AWS SDK module when the registry is imported, the local provider used, or the aws provider created', async () => {
    const { createProvider, providerNames } = await import('../../../providers/registry.js');
    expect(providerNames()).toEqual(['aws', 'azure', 'local']);
    const local = await createProvider('local', { root: scratch.path });
    await local.storage.put('a/b.txt', new Uint8Array([1]));
    expect(await local.storage.list('a/')).toHaveLength(1);
    expect([...loaded]).toEqual([]);

    const aws = await createProvider('aws', { ...BASE_OPTIONS, kmsKeyId: 'alias/retail-mlops-data' });
    expect(aws.name).toBe('aws');
    expect(aws.storage.location).toBe('s3://retail-mlops-provider/lake');
    expect(aws.registry.provider).toBe('aws');
    expect(aws.training.algorithms).toEqual(['sagemaker-xgboost']);
    // with the project's image, its own trainers run on SageMaker too (the same choice Azure has)
    const withImage = await createProvider('aws', { ...BASE_OPTIONS, servingImage: undefined, image: '111122223333.dkr.ecr.us-east-1.amazonaws.com/retail-mlops:1.4.0' });
    expect(withImage.training.algorithms).toEqual(['sagemaker-xgboost', 'lr', 'dt', 'rf', 'gbdt']);
    expect([...loaded]).toEqual([]);

    // positive control: the first S3 call loads the S3 client (and nothing else)
    s3 = await startS3Emulator(['retail-mlops-provider']);
    const onEmulator = await createProvider('aws', { ...BASE_OPTIONS, s3Endpoint: s3.endpoint, forcePathStyle: true });
    await onEmulator.storage.put('x.txt', new Uint8Array([1, 2]));
    expect(await onEmulator.storage.head('x.txt')).toEqual({ key: 'x.txt', size: 2 });
    expect([...loaded]).toEqual(['@aws-sdk/client-s3']);
  });

  it('reports every problem of its options at once', async () => {
    const { createProvider } = await import('../../../providers/registry.js');
    const error = await createProvider('aws', { region: 'us-east-1', bucket: 7, managedSpot: 'yes', colour: 'blue' }).catch((caught: unknown) => caught);
    expect((error as { code: string }).code).toBe('INVALID_OPTIONS');
    expect((error as { problems: string[] }).problems).toEqual([
      "unknown option 'colour' (known: region, bucket, kmsKeyId, roleArn, image, servingImage, modelPackageGroupName, lakePrefix, registryPrefix, " +
        'trainingPrefix, subnetIds, securityGroupIds, instanceType, s3Endpoint, sageMakerEndpoint, managedSpot, forcePathStyle, maxRuntimeSeconds)',
      'roleArn is required',
      'image (or servingImage) is required',
      'bucket must be a string',
      'managedSpot must be true or false',
    ]);
    const parts = await createProvider('aws', { ...BASE_OPTIONS, bucket: 'Bad_Bucket', subnetIds: 'subnet-0a1b2c3d4e5f60718' }).catch((caught: unknown) => caught);
    expect((parts as { code: string }).code).toBe('INVALID_OPTIONS');
    expect((parts as Error).message).toMatch(/bucket must be an S3 bucket name/);
  });

  it('is listed by the registry, whose unknown-name error names it', async () => {
    const { createProvider } = await import('../../../providers/registry.js');
    const error = await createProvider('gcp').catch((caught: unknown) => caught);
    expect((error as { code: string }).code).toBe('PROVIDER_NOT_FOUND');
    expect((error as Error).message).toContain('aws, azure, local');
  });
});
