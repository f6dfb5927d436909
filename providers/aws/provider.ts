/**
 * The aws provider: the lake and the registry's artifacts in S3 (SSE-KMS), training on SageMaker
 * (the project's trainers in the project's image, or the built-in XGBoost algorithm), the model registry on SageMaker Model Registry. One bucket holds
 * the three areas under their prefixes (the infra stack creates it, its KMS key and the roles).
 *
 * Options (flat, as the provider registry passes them; `retail-mlops … --provider aws --provider-option key=value`):
 *
 * | option | meaning | default |
 * | --- | --- | --- |
 * | `region` | AWS region | required |
 * | `bucket` | the data bucket | required |
 * | `kmsKeyId` | KMS key for every object, the training volume and output | the bucket's default encryption |
 * | `roleArn` | SageMaker execution role of training jobs | required |
 * | `image` | the project's container image (ECR): training jobs of the project's trainers (lr, dt, rf, gbdt) run in it, and model packages name it | `image` or `servingImage` required |
 * | `servingImage` | the API image of model packages' InferenceSpecification | `image` |
 * | `modelPackageGroupName` | the registry's Model Package Group | `retail-mlops` |
 * | `lakePrefix`, `registryPrefix`, `trainingPrefix` | areas of the bucket | `lake`, `registry`, `training` |
 * | `subnetIds`, `securityGroupIds` | comma-separated; training jobs run in these private subnets | no VPC |
 * | `instanceType` | training instance | `ml.m5.xlarge` |
 * | `managedSpot` | train on spot capacity | `true` |
 * | `maxRuntimeSeconds` | longest training job | `3600` |
 * | `s3Endpoint`, `sageMakerEndpoint` | other endpoints (emulators) | the region's |
 * | `forcePathStyle` | path-style S3 addressing (emulators) | `false` |
 *
 * Credentials come from the SDK's default chain (OIDC web identity in CI, IRSA / Pod Identity on
 * EKS, SSO on a laptop). The SDKs load when the provider first talks to AWS, not before.
 */
import { createSageMakerModelRegistry } from './model-registry';
import { createS3ObjectStorage } from './object-storage';
import { createSageMakerTrainingBackend } from './training-backend';
import { ProblemCollector } from '../../core/errors';
import type { Provider, ProviderOptions } from '../registry';

const STRING_OPTIONS = [
  'region',
  'bucket',
  'kmsKeyId',
  'roleArn',
  'image',
  'servingImage',
  'modelPackageGroupName',
  'lakePrefix',
  'registryPrefix',
  'trainingPrefix',
  'subnetIds',
  'securityGroupIds',
  'instanceType',
  's3Endpoint',
  'sageMakerEndpoint',
] as const;
const BOOLEAN_OPTIONS = ['managedSpot', 'forcePathStyle'] as const;
const NUMBER_OPTIONS = ['maxRuntimeSeconds'] as const;
const REQUIRED = ['region', 'bucket', 'roleArn'] as const;

function list(value: string | undefined): string[] {
  return value ? value.split(',').map((item) => item.trim()).filter((item) => item.length > 0) : [];
}

/**
 * Creates the aws provider from flat options (validated here, every problem at once; each part
 * validates its own options as well).
 * @throws InvalidOptionsError
 */
export async function createAwsProvider(options: ProviderOptions = {}): Promise<Provider> {
  const problems = new ProblemCollector('aws provider options');
  const known = new Set<string>([...STRING_OPTIONS, ...BOOLEAN_OPTIONS, ...NUMBER_OPTIONS]);
  for (const key of Object.keys(options)) problems.check(known.has(key), `unknown option '${key}' (known: ${[...known].join(', ')})`);
  for (const key of REQUIRED) problems.check(options[key] !== undefined, `${key} is required`);
  problems.check(options.image !== undefined || options.servingImage !== undefined, 'image (or servingImage) is required');
  for (const key of STRING_OPTIONS) problems.check(options[key] === undefined || typeof options[key] === 'string', `${key} must be a string`);
  for (const key of BOOLEAN_OPTIONS) problems.check(options[key] === undefined || typeof options[key] === 'boolean', `${key} must be true or false`);
  for (const key of NUMBER_OPTIONS) problems.check(options[key] === undefined || typeof options[key] === 'number', `${key} must be a number`);
  problems.throwIfAny();

  const text = (key: (typeof STRING_OPTIONS)[number]): string | undefined => options[key] as string | undefined;
  const region = text('region')!;
  const storageFor = (prefix: string) =>
    createS3ObjectStorage({
      region,
      bucket: text('bucket')!,
      prefix,
      kmsKeyId: text('kmsKeyId'),
      endpoint: text('s3Endpoint'),
      forcePathStyle: options.forcePathStyle as boolean | undefined,
      requestChecksumCalculation: options.s3Endpoint !== undefined ? 'WHEN_REQUIRED' : undefined,
    });
  const sageMakerConnection = { region, endpoint: text('sageMakerEndpoint') };
  return {
    name: 'aws',
    storage: storageFor(text('lakePrefix') ?? 'lake'),
    registry: createSageMakerModelRegistry({
      ...sageMakerConnection,
      storage: storageFor(text('registryPrefix') ?? 'registry'),
      modelPackageGroupName: text('modelPackageGroupName') ?? 'retail-mlops',
      servingImage: (text('servingImage') ?? text('image'))!,
    }),
    training: createSageMakerTrainingBackend({
      ...sageMakerConnection,
      storage: storageFor(text('trainingPrefix') ?? 'training'),
      roleArn: text('roleArn')!,
      projectImage: text('image'),
      subnetIds: list(text('subnetIds')),
      securityGroupIds: list(text('securityGroupIds')),
      instanceType: text('instanceType'),
      managedSpot: options.managedSpot as boolean | undefined,
      maxRuntimeSeconds: options.maxRuntimeSeconds as number | undefined,
    }),
  };
}
