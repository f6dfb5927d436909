/**
 * Checks of the aws provider's settings, pure (no SDK), so the resolver reports them with every other
 * problem before anything talks to AWS.
 */
import type { AwsSettings } from '../../core/config/settings';

const REGION_PATTERN = /^[a-z]{2}(-[a-z]+)+-\d$/;
const ROLE_ARN_PATTERN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
const SUBNET_PATTERN = /^subnet-[0-9a-f]{8,17}$/;
const SECURITY_GROUP_PATTERN = /^sg-[0-9a-f]{8,17}$/;

/** Problems of the aws settings that hold whatever the provider is used for. */
export function awsSettingsProblems(settings: AwsSettings): string[] {
  const problems: string[] = [];
  const check = (condition: boolean, problem: string): void => {
    if (!condition) problems.push(problem);
  };
  check(settings.region !== undefined, 'aws.region is required (RETAIL_MLOPS_AWS_REGION or AWS_REGION)');
  check(settings.region === undefined || REGION_PATTERN.test(settings.region), `aws.region '${settings.region}' is not an AWS region such as eu-west-1`);
  check(settings.roleArn === undefined || ROLE_ARN_PATTERN.test(settings.roleArn), `aws.roleArn '${settings.roleArn}' is not an IAM role ARN`);
  for (const subnet of settings.subnetIds ?? []) check(SUBNET_PATTERN.test(subnet), `aws.subnetIds: '${subnet}' is not a subnet id`);
  for (const group of settings.securityGroupIds ?? []) check(SECURITY_GROUP_PATTERN.test(group), `aws.securityGroupIds: '${group}' is not a security group id`);
  check((settings.subnetIds ?? []).length === 0 || (settings.securityGroupIds ?? []).length > 0, 'aws.subnetIds need aws.securityGroupIds');
  return problems;
}

/** What training on SageMaker needs beyond the settings every use needs. */
export function awsTrainingProblems(settings: AwsSettings): string[] {
  return settings.roleArn === undefined ? ['aws.roleArn (RETAIL_MLOPS_AWS_ROLE_ARN) is required to train on SageMaker: the execution role jobs run as'] : [];
}

/** What the registry needs beyond the settings every use needs. */
export function awsRegistryProblems(settings: AwsSettings): string[] {
  return settings.image === undefined ? ["aws.image (RETAIL_MLOPS_AWS_IMAGE) is required: the registry mirrors versions into SageMaker model packages that name the project's image"] : [];
}
