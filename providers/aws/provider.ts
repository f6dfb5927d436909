/**
 * The aws provider: lakes and registries in S3 (SSE-KMS with the environment's key), training on
 * SageMaker, versions mirrored into a SageMaker Model Package Group. Settings (`AwsSettings`, from
 * `.retail-mlops.json` or `RETAIL_MLOPS_AWS_*`; see core/config/settings.ts) say what an `s3://` URI
 * cannot: region, KMS key, execution role, subnets, instance type, spot, the project's image.
 *
 * Credentials come from the SDK's default chain (OIDC web identity in CI, IRSA / Pod Identity on
 * EKS, SSO on a laptop); endpoints from the SDK's own variables (`AWS_ENDPOINT_URL_S3`,
 * `AWS_ENDPOINT_URL_SAGEMAKER`: emulators, VPC endpoints). The SDKs load when the provider first
 * talks to AWS, not before.
 */
import * as path from 'node:path';
import { createSageMakerModelRegistry } from './model-registry';
import { createS3ObjectStorage, type S3ObjectStorage } from './object-storage';
import { awsRegistryProblems, awsSettingsProblems, awsTrainingProblems } from './settings';
import { createSageMakerTrainingBackend } from './training-backend';
import type { AwsSettings } from '../../core/config/settings';
import { InvalidOptionsError } from '../../core/errors';
import type { ParsedLocation } from '../locations';
import type { Provider } from '../registry';

function s3Location(location: ParsedLocation): { bucket: string; prefix: string } {
  if (location.provider !== 'aws') throw new InvalidOptionsError('aws provider', [`the aws provider opens s3:// locations, not ${location.provider} ones`]);
  return location;
}

/**
 * Creates the aws provider (no request is made until something is opened and used).
 * @throws InvalidOptionsError listing every problem of the settings
 */
export async function createAwsProvider(settings: AwsSettings): Promise<Provider> {
  const problems = awsSettingsProblems(settings);
  if (problems.length > 0) throw new InvalidOptionsError('aws settings', problems);
  const region = settings.region as string;
  const storageAt = (bucket: string, prefix: string): S3ObjectStorage =>
    createS3ObjectStorage({ region, bucket, prefix, kmsKeyId: settings.kmsKeyId, forcePathStyle: settings.forcePathStyle });
  return {
    name: 'aws',
    openStorage: async (location) => {
      const { bucket, prefix } = s3Location(location);
      return storageAt(bucket, prefix);
    },
    openRegistry: async (location, options = {}) => {
      const { bucket, prefix } = s3Location(location);
      const mirror = options.mirror ?? true;
      const missing = mirror ? awsRegistryProblems(settings) : [];
      if (missing.length > 0) throw new InvalidOptionsError('aws settings', missing);
      return createSageMakerModelRegistry({
        region,
        storage: storageAt(bucket, prefix),
        modelPackageGroupName: settings.modelPackageGroupName ?? 'retail-mlops',
        servingImage: mirror ? settings.image : undefined,
      });
    },
    openTrainingBackend: async ({ lake, workDirectory }) => {
      const { bucket, prefix } = s3Location(lake);
      const missing = awsTrainingProblems(settings);
      if (missing.length > 0) throw new InvalidOptionsError('aws settings', missing);
      // job channels, checkpoints and outputs go beside the lake: s3://bucket/<lake's parent>/training
      const parent = path.posix.dirname(prefix);
      return createSageMakerTrainingBackend({
        region,
        storage: storageAt(bucket, parent === '.' ? 'training' : `${parent}/training`),
        roleArn: settings.roleArn as string,
        subnetIds: settings.subnetIds ?? [],
        securityGroupIds: settings.securityGroupIds ?? [],
        instanceType: settings.instanceType,
        managedSpot: settings.spot,
        workDirectory: path.join(workDirectory, 'sagemaker'),
      });
    },
  };
}
