/**
 * The CI pipeline's AWS identity, without long-lived keys: an IAM role that jobs of the given CI
 * system assume with their OIDC token (AssumeRoleWithWebIdentity), trusted only for the listed
 * `sub` claims. It can do what the pipeline's stages do on AWS: read and write the lake, the
 * registry and the training area of the data bucket; run SageMaker training jobs as the execution
 * role (PassRole to SageMaker only); register model versions and move aliases in the Model Package
 * Group; add the lake's partitions to Glue and query them with Athena; push the API image to ECR.
 * Deploying the stack itself uses the CDK bootstrap roles (see providers/aws/README.md).
 */
import { Stack, Validations, type CfnElement } from 'aws-cdk-lib';
import type * as ecr from 'aws-cdk-lib/aws-ecr';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { PipelineOidcTrust, ResolvedEnvironmentProps } from './environments';
import type { MachineLearning } from './machine-learning';
import { DATA_PREFIXES, type DataStorage } from './storage';

export interface PipelineAccessProps extends ResolvedEnvironmentProps {
  readonly trust: PipelineOidcTrust;
  readonly storage: DataStorage;
  readonly machineLearning: MachineLearning;
  readonly repository: ecr.IRepository;
}

export class PipelineAccess extends Construct {
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: PipelineAccessProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const host = props.trust.issuerUrl.replace(/^https:\/\//, '');
    const provider =
      props.trust.createProvider === false
        ? iam.OidcProviderNative.fromOidcProviderArn(this, 'Provider', `arn:${stack.partition}:iam::${stack.account}:oidc-provider/${host}`)
        : new iam.OidcProviderNative(this, 'Provider', { url: props.trust.issuerUrl, clientIds: [props.trust.audience] });
    this.role = new iam.Role(this, 'Role', {
      roleName: `retail-mlops-${props.environment}-pipeline`,
      description: `retail-mlops ${props.environment}: CI pipeline stages (OIDC, no long-lived keys)`,
      assumedBy: new iam.WebIdentityPrincipal(provider.oidcProviderArn, {
        StringEquals: { [`${host}:aud`]: props.trust.audience },
        StringLike: { [`${host}:sub`]: [...props.trust.subjects] },
      }),
    });
    const role = this.role;
    const bucket = props.storage.dataBucket;
    const ml = props.machineLearning;
    const prefixes = Object.values(DATA_PREFIXES);
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'DataBucketObjects',
        actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'],
        resources: prefixes.map((prefix) => bucket.arnForObjects(`${prefix}/*`)),
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({ sid: 'DataBucketList', actions: ['s3:ListBucket'], resources: [bucket.bucketArn], conditions: { StringLike: { 's3:prefix': prefixes.map((prefix) => `${prefix}/*`) } } }),
    );
    props.storage.dataKey.grantEncryptDecrypt(role);
    const arn = (resource: string): string => `arn:${stack.partition}:sagemaker:${stack.region}:${stack.account}:${resource}`;
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'TrainingJobs',
        actions: ['sagemaker:CreateTrainingJob', 'sagemaker:DescribeTrainingJob', 'sagemaker:StopTrainingJob', 'sagemaker:AddTags'],
        resources: [arn('training-job/*')],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'PassExecutionRole',
        actions: ['iam:PassRole'],
        resources: [ml.executionRole.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } },
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ModelRegistry',
        actions: [
          'sagemaker:CreateModelPackage',
          'sagemaker:DescribeModelPackage',
          'sagemaker:UpdateModelPackage',
          'sagemaker:DescribeModelPackageGroup',
          'sagemaker:AddTags',
          'sagemaker:DeleteTags',
          'sagemaker:ListTags',
        ],
        resources: [arn(`model-package-group/${ml.modelPackageGroupName}`), arn(`model-package/${ml.modelPackageGroupName}/*`)],
      }),
    );
    role.addToPolicy(new iam.PolicyStatement({ sid: 'ListModelPackages', actions: ['sagemaker:ListModelPackages'], resources: ['*'] }));
    const glueArn = (resource: string): string => `arn:${stack.partition}:glue:${stack.region}:${stack.account}:${resource}`;
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'LakeCatalog',
        actions: ['glue:GetDatabase', 'glue:GetTable', 'glue:GetPartition', 'glue:GetPartitions', 'glue:BatchGetPartition', 'glue:BatchCreatePartition'],
        resources: [glueArn('catalog'), glueArn(`database/${ml.glueDatabaseName}`), glueArn(`table/${ml.glueDatabaseName}/*`)],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'AthenaQueries',
        actions: ['athena:StartQueryExecution', 'athena:GetQueryExecution', 'athena:GetQueryResults', 'athena:StopQueryExecution', 'athena:GetWorkGroup'],
        resources: [`arn:${stack.partition}:athena:${stack.region}:${stack.account}:workgroup/${ml.athenaWorkGroupName}`],
      }),
    );
    props.storage.athenaResultsBucket.grantReadWrite(role, 'results/*');
    props.repository.grantPullPush(role);
    for (const [finding, reason] of [
      ['AwsSolutions-IAM5[Resource::*]', 'ecr:GetAuthorizationToken and sagemaker:ListModelPackages have no resource-level permissions.'],
      ['AwsSolutions-IAM5[Action::kms:GenerateDataKey*]', 'Granted by Key.grantEncryptDecrypt for the data key only.'],
      ['AwsSolutions-IAM5[Action::kms:ReEncrypt*]', 'Granted by Key.grantEncryptDecrypt for the data key only.'],
      ['AwsSolutions-IAM5[Action::s3:GetObject*]', 'Granted by Bucket.grantReadWrite on the Athena results prefix only.'],
      ['AwsSolutions-IAM5[Action::s3:GetBucket*]', 'Granted by Bucket.grantReadWrite on the Athena results bucket only.'],
      ['AwsSolutions-IAM5[Action::s3:List*]', 'Granted by Bucket.grantReadWrite on the Athena results bucket only.'],
      ['AwsSolutions-IAM5[Action::s3:DeleteObject*]', 'Granted by Bucket.grantReadWrite on the Athena results prefix only.'],
      ['AwsSolutions-IAM5[Action::s3:Abort*]', 'Granted by Bucket.grantReadWrite on the Athena results prefix only.'],
      [`AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:sagemaker:${stack.region}:${stack.account}:training-job/*]`, 'Training job names are chosen per run by the pipeline (unique forever).'],
      [
        `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:sagemaker:${stack.region}:${stack.account}:model-package/${ml.modelPackageGroupName}/*]`,
        'The registry group\'s versions (…/<group>/<n>) are created over time; the wildcard covers that group only.',
      ],
      [`AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:glue:${stack.region}:${stack.account}:table/${ml.glueDatabaseName}/*]`, 'The lake database\'s tables only (silver, gold, and any the team adds there); no other database.'],
    ] as const) {
      Validations.of(role).acknowledge({ id: finding, reason });
    }
    const logicalId = (bucketOf: { node: { defaultChild?: unknown } }): string => stack.getLogicalId(bucketOf.node.defaultChild as CfnElement);
    for (const prefix of prefixes) {
      Validations.of(role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${logicalId(bucket)}.Arn>/${prefix}/*]`,
        reason: `The pipeline writes the ${prefix} area of the data bucket (objects are added per ingest, version and job); nothing outside it.`,
      });
    }
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${logicalId(props.storage.athenaResultsBucket)}.Arn>/results/*]`,
      reason: 'Athena writes one result object per query under results/; the pipeline reads them back.',
    });
  }
}
