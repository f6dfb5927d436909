/**
 * The security and cost properties of the synthesized stacks, resource by resource
 * (aws-cdk-lib/assertions on the templates the app really produces, cdk-nag included).
 */
import type { Template } from 'aws-cdk-lib/assertions';
import { Match } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { synthesizeAll, type Synthesized } from './synthesis';
import { METRICS_NAMESPACE, TELEMETRY_METRICS } from '../../../../core/monitoring/telemetry';
import { GOLD_PARTITION_KEYS, SILVER_PARTITION_KEYS } from '../../../../providers/aws/lake-catalog';
import { temporaryDirectory } from '../../../helpers/paths';

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown>; DeletionPolicy?: string }>;

let synthesized: Synthesized;
let dev: Template;
let production: Template;
const scratch = temporaryDirectory('infra-stack-');

beforeAll(() => {
  synthesized = synthesizeAll(scratch.path, ['dev', 'production']);
  dev = synthesized.template('dev');
  production = synthesized.template('production');
});
afterAll(() => scratch.remove());

function resourcesOf(environment: 'dev' | 'production', type: string): [string, Resources[string]][] {
  return Object.entries(synthesized.json(environment).Resources as Resources).filter(([, resource]) => resource.Type === type);
}

/** Every IAM statement of a role's inline policies (DefaultPolicy), by the role's logical id prefix. */
function statementsOf(environment: 'dev' | 'production', rolePrefix: string): { Action: string | string[]; Resource: unknown; Condition?: unknown; Effect: string }[] {
  return resourcesOf(environment, 'AWS::IAM::Policy')
    .filter(([, policy]) => JSON.stringify(policy.Properties?.Roles).includes(rolePrefix))
    .flatMap(([, policy]) => (policy.Properties?.PolicyDocument as { Statement: [] }).Statement);
}

const actionsOf = (statements: { Action: string | string[] }[]): string[] => statements.flatMap((statement) => [statement.Action].flat());

describe('S3 buckets', () => {
  it('all block public access, are versioned, encrypted, owner-enforced, and deny plain HTTP and TLS < 1.2', () => {
    const buckets = resourcesOf('dev', 'AWS::S3::Bucket');
    expect(buckets).toHaveLength(4);
    for (const [, bucket] of buckets) {
      expect(bucket.Properties).toMatchObject({
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
        VersioningConfiguration: { Status: 'Enabled' },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      });
      expect(bucket.Properties?.BucketEncryption).toBeDefined();
    }
    for (const [, policy] of resourcesOf('dev', 'AWS::S3::BucketPolicy')) {
      const statements = (policy.Properties?.PolicyDocument as { Statement: { Effect: string; Condition?: unknown }[] }).Statement;
      expect(statements).toContainEqual(expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }));
      expect(statements).toContainEqual(expect.objectContaining({ Effect: 'Deny', Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } } }));
    }
  });

  it('log access to the access-log bucket, which is itself SSE-S3 (S3 access logging cannot write SSE-KMS)', () => {
    const buckets = resourcesOf('dev', 'AWS::S3::Bucket');
    const logged = buckets.filter(([, bucket]) => bucket.Properties?.LoggingConfiguration !== undefined);
    expect(logged).toHaveLength(3);
    const [logBucketId] = buckets.find(([id]) => id.startsWith('StorageAccessLogsBucket'))!;
    for (const [, bucket] of logged) expect(bucket.Properties?.LoggingConfiguration).toMatchObject({ DestinationBucketName: { Ref: logBucketId } });
    expect(buckets.find(([id]) => id === logBucketId)![1].Properties?.BucketEncryption).toEqual({
      ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
    });
  });

  it('encrypt the data bucket with the data KMS key (bucket keys on), with the lake lifecycle', () => {
    dev.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          { BucketKeyEnabled: true, ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': [Match.stringLikeRegexp('^StorageDataKey'), 'Arn'] } } },
        ],
      },
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({
            Id: 'raw-to-colder-storage',
            Prefix: 'lake/raw/',
            Status: 'Enabled',
            Transitions: [
              { StorageClass: 'STANDARD_IA', TransitionInDays: 30 },
              { StorageClass: 'GLACIER_IR', TransitionInDays: 90 },
            ],
          }),
          Match.objectLike({ Id: 'expire-quarantine', Prefix: 'lake/quarantine/', ExpirationInDays: 30 }),
          Match.objectLike({ Id: 'expire-predictions', Prefix: 'lake/predictions/', ExpirationInDays: 90 }),
          Match.objectLike({ Id: 'expire-training-jobs', Prefix: 'training/jobs/', ExpirationInDays: 30 }),
        ]),
      },
    });
    production.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ Id: 'expire-quarantine', ExpirationInDays: 90 }), Match.objectLike({ Id: 'expire-predictions', ExpirationInDays: 365 })]) },
    });
  });

  it('are deleted with the stack in dev (emptied first) and retained in production', () => {
    for (const [, bucket] of resourcesOf('dev', 'AWS::S3::Bucket')) expect(bucket.DeletionPolicy).toBe('Delete');
    dev.resourceCountIs('Custom::S3AutoDeleteObjects', 4);
    for (const [, bucket] of resourcesOf('production', 'AWS::S3::Bucket')) expect(bucket.DeletionPolicy).toBe('Retain');
    production.resourceCountIs('Custom::S3AutoDeleteObjects', 0);
    for (const type of ['AWS::KMS::Key', 'AWS::SageMaker::ModelPackageGroup', 'AWS::Glue::Database', 'AWS::ECR::Repository', 'AWS::Logs::LogGroup']) {
      for (const [id, resource] of resourcesOf('production', type)) expect(resource.DeletionPolicy, id).toBe('Retain');
    }
  });
});

describe('KMS, CloudTrail, ECR', () => {
  it('rotates every KMS key', () => {
    const keys = resourcesOf('dev', 'AWS::KMS::Key');
    expect(keys).toHaveLength(3);
    for (const [, key] of keys) expect(key.Properties?.EnableKeyRotation).toBe(true);
  });

  it('trails every region with log file validation, KMS-encrypted log files and a CloudWatch Logs copy', () => {
    dev.hasResourceProperties('AWS::CloudTrail::Trail', {
      EnableLogFileValidation: true,
      IsMultiRegionTrail: true,
      IncludeGlobalServiceEvents: true,
      KMSKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^StorageLogsKey'), 'Arn'] },
      CloudWatchLogsLogGroupArn: Match.anyValue(),
      EventSelectors: [Match.objectLike({ ReadWriteType: 'WriteOnly', DataResources: [Match.objectLike({ Type: 'AWS::S3::Object' })] })],
    });
  });

  it('scans images on push and keeps tags immutable in a KMS-encrypted repository', () => {
    dev.hasResourceProperties('AWS::ECR::Repository', {
      ImageScanningConfiguration: { ScanOnPush: true },
      ImageTagMutability: 'IMMUTABLE',
      EncryptionConfiguration: { EncryptionType: 'KMS', KmsKey: Match.anyValue() },
      EmptyOnDelete: true,
    });
  });
});

describe('network', () => {
  it('has private subnets, flow logs, an S3 gateway endpoint and the interface endpoints with private DNS', () => {
    dev.resourceCountIs('AWS::EC2::FlowLog', 1);
    dev.hasResourceProperties('AWS::EC2::VPC', { CidrBlock: '10.0.0.0/16' });
    dev.hasResourceProperties('AWS::EC2::VPCEndpoint', { VpcEndpointType: 'Gateway', ServiceName: Match.objectLike({ 'Fn::Join': Match.arrayWith([Match.arrayWith(['.s3'])]) }) });
    const interfaces = resourcesOf('dev', 'AWS::EC2::VPCEndpoint').filter(([, endpoint]) => endpoint.Properties?.VpcEndpointType === 'Interface');
    const services = interfaces.map(([, endpoint]) => String(endpoint.Properties?.ServiceName).replace(/^com\.amazonaws\.eu-west-1\./, '')).sort();
    // the default set: IRSA's token exchange and image pulls (the others go through NAT unless listed: cost)
    expect(services).toEqual(['ecr.api', 'ecr.dkr', 'sts']);
    for (const [, endpoint] of interfaces) expect(endpoint.Properties?.PrivateDnsEnabled).toBe(true);
    for (const [, subnet] of resourcesOf('dev', 'AWS::EC2::Subnet')) expect(subnet.Properties?.MapPublicIpOnLaunch).toBe(false);
  });

  it('lets HTTPS from the VPC into the endpoints only, and lets training jobs out on HTTPS only', () => {
    dev.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: 'Interface VPC endpoints: HTTPS from inside the VPC',
      SecurityGroupIngress: [{ CidrIp: '10.0.0.0/16', FromPort: 443, ToPort: 443, IpProtocol: 'tcp', Description: 'HTTPS from the VPC' }],
    });
    const [, training] = resourcesOf('dev', 'AWS::EC2::SecurityGroup').find(([id]) => id.startsWith('NetworkTrainingSecurityGroup'))!;
    const egress = training.Properties?.SecurityGroupEgress as { FromPort: number; ToPort: number }[];
    for (const rule of egress) expect([rule.FromPort, rule.ToPort]).toEqual([443, 443]);
    for (const [, group] of resourcesOf('dev', 'AWS::EC2::SecurityGroup')) {
      for (const rule of (group.Properties?.SecurityGroupIngress as { CidrIp?: string }[] | undefined) ?? []) expect(rule.CidrIp).not.toBe('0.0.0.0/0');
    }
  });
});

describe('EKS (aws-eks-v2)', () => {
  it('has a private endpoint only, encrypted secrets, every control-plane log; kubectl runs in a Lambda in the private subnets', () => {
    dev.hasResourceProperties('AWS::EKS::Cluster', {
      Version: '1.33',
      ResourcesVpcConfig: Match.objectLike({ EndpointPrivateAccess: true, EndpointPublicAccess: false }),
      EncryptionConfig: [{ Provider: { KeyArn: Match.anyValue() }, Resources: ['secrets'] }],
      Logging: { ClusterLogging: { EnabledTypes: ['api', 'audit', 'authenticator', 'controllerManager', 'scheduler'].map((type) => ({ Type: type })) } },
    });
    // the bootstrap's Helm charts and manifests go through aws-eks-v2's kubectl provider: inside the VPC, so the endpoint stays private
    const [, handler] = resourcesOf('dev', 'AWS::Lambda::Function').find(([id]) => id.startsWith('ApiClusterKubectlProviderHandler'))!;
    expect((handler.Properties?.VpcConfig as { SubnetIds: unknown[] }).SubnetIds.length).toBe(2);
    expect(resourcesOf('dev', 'AWS::Lambda::LayerVersion').some(([id]) => id.startsWith('ApiKubectlLayer'))).toBe(true);
  });

  it('runs an on-demand and a spot managed node group (AL2023, private subnets, several spot types)', () => {
    dev.hasResourceProperties('AWS::EKS::Nodegroup', { CapacityType: 'ON_DEMAND', AmiType: 'AL2023_x86_64_STANDARD', ScalingConfig: { MinSize: 1, DesiredSize: 1, MaxSize: 2 } });
    dev.hasResourceProperties('AWS::EKS::Nodegroup', {
      CapacityType: 'SPOT',
      AmiType: 'AL2023_x86_64_STANDARD',
      InstanceTypes: ['m5.large', 'm5a.large', 'm6i.large'],
      Labels: { 'retail-mlops/capacity': 'spot' },
    });
    production.hasResourceProperties('AWS::EKS::Nodegroup', { CapacityType: 'ON_DEMAND', InstanceTypes: ['c6i.large'], ScalingConfig: { MinSize: 2, DesiredSize: 2, MaxSize: 4 } });
    production.hasResourceProperties('AWS::EKS::Nodegroup', { CapacityType: 'SPOT', ScalingConfig: { MinSize: 1, DesiredSize: 1, MaxSize: 6 } });
  });

  it('lets only the API service account assume the API role (IRSA): it reads registry and lake, writes only predictions, reports and monitor state', () => {
    dev.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [{ Action: 'sts:AssumeRoleWithWebIdentity', Effect: 'Allow', Principal: { Federated: { Ref: Match.stringLikeRegexp('^ApiClusterOidcProviderNative') } }, Condition: Match.anyValue() }],
      },
      Description: Match.stringLikeRegexp('API pods'),
    });
    // one OIDC provider per cluster, shared by the API, the load balancer controller and the CloudWatch agent
    const clusterProviders = resourcesOf('dev', 'AWS::IAM::OIDCProvider').filter(([, provider]) => JSON.stringify(provider.Properties?.Url).includes('OpenIdConnectIssuerUrl'));
    expect(clusterProviders).toHaveLength(1);
    const condition = JSON.stringify(resourcesOf('dev', 'Custom::AWSCDKCfnJson').find(([id]) => id.startsWith('ApiApiServiceAccountCondition'))![1].Properties?.Value);
    expect(condition).toContain(':sub\\":\\"system:serviceaccount:retail-mlops-dev:retail-mlops-api\\"');
    expect(condition).toContain(':aud\\":\\"sts.amazonaws.com\\"');
    const statements = statementsOf('dev', 'ApiApiRole');
    const actions = actionsOf(statements);
    expect(actions.filter((action) => action.startsWith('s3:')).sort()).toEqual(['s3:AbortMultipartUpload', 's3:DeleteObject', 's3:GetObject', 's3:ListBucket', 's3:PutObject']);
    const writes = statements.filter((statement) => actionsOf([statement]).some((action) => /Put|Delete|Abort|Create|Update|\*$/.test(action) && !action.startsWith('kms:')));
    expect(writes.map((statement) => JSON.stringify(statement.Resource).match(/\/lake\/\w+\/\*/g)!.sort())).toEqual([
      ['/lake/monitoring/*', '/lake/predictions/*', '/lake/reports/*'],
      ['/lake/predictions/*'],
    ]);
    const getObject = statements.find((statement) => [statement.Action].flat().includes('s3:GetObject'))!;
    expect(JSON.stringify(getObject.Resource)).toContain('/registry/*');
    // metrics come from log lines: the pods publish none
    expect(actions.some((action) => action.startsWith('cloudwatch:'))).toBe(false);
  });
});

describe('SageMaker, Glue, Athena', () => {
  it('gives the execution role least privilege: trusted by SageMaker for this account, S3 only under training/jobs/', () => {
    dev.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'sagemaker.amazonaws.com' }, Condition: { StringEquals: { 'aws:SourceAccount': '111111111111' } } }],
      },
    });
    const statements = statementsOf('dev', 'MachineLearningExecutionRole');
    for (const statement of statements.filter((candidate) => actionsOf([candidate]).some((action) => action.startsWith('s3:')))) {
      expect(JSON.stringify(statement.Resource) + JSON.stringify(statement.Condition ?? {})).toContain('training/jobs/');
    }
    expect(actionsOf(statements).some((action) => action === 's3:*' || action === '*' || action.startsWith('iam:') || action.startsWith('sagemaker:'))).toBe(false);
    const networkInterfaces = statements.find((statement) => actionsOf([statement]).includes('ec2:DeleteNetworkInterface'))!;
    expect(networkInterfaces.Condition).toMatchObject({ ArnEquals: { 'ec2:Vpc': expect.anything() } });
  });

  it('declares the registry group, the lake tables with their partitions, and an enforced, encrypted Athena workgroup', () => {
    dev.hasResourceProperties('AWS::SageMaker::ModelPackageGroup', { ModelPackageGroupName: 'retail-mlops-dev' });
    dev.hasResourceProperties('AWS::Glue::Database', { DatabaseInput: { Name: 'retail_mlops_dev' } });
    for (const [name, keys] of [['silver', SILVER_PARTITION_KEYS], ['gold', GOLD_PARTITION_KEYS]] as const) {
      dev.hasResourceProperties('AWS::Glue::Table', {
        DatabaseName: 'retail_mlops_dev',
        TableInput: Match.objectLike({
          Name: name,
          TableType: 'EXTERNAL_TABLE',
          PartitionKeys: keys.map((key) => Match.objectLike({ Name: key.name, Type: key.type })),
          StorageDescriptor: Match.objectLike({ SerdeInfo: { SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe', Parameters: { 'serialization.format': '1' } } }),
        }),
      });
    }
    dev.hasResourceProperties('AWS::Athena::WorkGroup', {
      Name: 'retail-mlops-dev',
      WorkGroupConfiguration: Match.objectLike({
        EnforceWorkGroupConfiguration: true,
        BytesScannedCutoffPerQuery: 10 * 1024 ** 3,
        ResultConfiguration: { OutputLocation: Match.anyValue(), EncryptionConfiguration: { EncryptionOption: 'SSE_KMS', KmsKey: Match.anyValue() } },
      }),
    });
  });
});

describe('alarms, dashboard, budget', () => {
  it('alarms on p95 latency, 5xx rate and drift from the telemetry metrics, to an encrypted TLS-only topic', () => {
    const metricStat = (metricName: string, stat: string): object =>
      Match.arrayWith([
        Match.objectLike({
          MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: metricName, Namespace: METRICS_NAMESPACE }), Stat: stat }),
        }),
      ]);
    dev.hasResourceProperties('AWS::CloudWatch::Alarm', { Metrics: metricStat(TELEMETRY_METRICS.latencyP95.name, 'Maximum'), Threshold: 50, DatapointsToAlarm: 3, EvaluationPeriods: 5 });
    dev.hasResourceProperties('AWS::CloudWatch::Alarm', { Metrics: metricStat(TELEMETRY_METRICS.drift.name, 'Maximum'), Threshold: 0.2 });
    dev.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'retail-mlops-dev-api-5xx-rate',
      Threshold: 0.01,
      Metrics: Match.arrayWith([Match.objectLike({ Expression: 'IF(requests > 0, errors / requests, 0)' })]),
    });
    for (const [, alarm] of resourcesOf('dev', 'AWS::CloudWatch::Alarm')) expect(alarm.Properties?.AlarmActions).toHaveLength(1);
    dev.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    dev.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
    dev.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });

  it('budgets $500 a month (production too) and notifies at 80% and 100% actual and 100% forecast', () => {
    for (const template of [dev, production]) {
      template.hasResourceProperties('AWS::Budgets::Budget', {
        Budget: { BudgetType: 'COST', TimeUnit: 'MONTHLY', BudgetLimit: { Amount: 500, Unit: 'USD' } },
        NotificationsWithSubscribers: [
          Match.objectLike({ Notification: { ComparisonOperator: 'GREATER_THAN', NotificationType: 'ACTUAL', Threshold: 80, ThresholdType: 'PERCENTAGE' } }),
          Match.objectLike({ Notification: { ComparisonOperator: 'GREATER_THAN', NotificationType: 'ACTUAL', Threshold: 100, ThresholdType: 'PERCENTAGE' } }),
          Match.objectLike({ Notification: { ComparisonOperator: 'GREATER_THAN', NotificationType: 'FORECASTED', Threshold: 100, ThresholdType: 'PERCENTAGE' } }),
        ],
      });
    }
  });
});

describe('the CI pipeline role', () => {
  it('is assumed with the CI system\'s OIDC token for the listed subjects only, and passes the execution role to SageMaker only', () => {
    dev.hasResourceProperties('AWS::IAM::Role', {
      RoleName: 'retail-mlops-dev-pipeline',
      AssumeRolePolicyDocument: {
        Statement: [
          {
            Action: 'sts:AssumeRoleWithWebIdentity',
            Effect: 'Allow',
            Principal: { Federated: Match.anyValue() },
            Condition: {
              StringEquals: { 'jenkins.retail.example.com/oidc:aud': 'sts.amazonaws.com' },
              StringLike: { 'jenkins.retail.example.com/oidc:sub': ['https://jenkins.retail.example.com/job/retail-mlops/job/main/*'] },
            },
          },
        ],
      },
    });
    const passRole = statementsOf('dev', 'PipelineRole').find((statement) => actionsOf([statement]).includes('iam:PassRole'))!;
    expect(passRole.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } });
    dev.resourceCountIs('AWS::IAM::User', 0);
    dev.resourceCountIs('AWS::IAM::AccessKey', 0);
  });

  it('outputs what the aws provider and the EKS chart need', () => {
    const outputs = Object.keys(synthesized.json('dev').Outputs as object);
    expect(outputs).toEqual(
      expect.arrayContaining(['DataBucket', 'DataKeyArn', 'SageMakerExecutionRoleArn', 'ModelPackageGroupName', 'TrainingSubnetIds', 'TrainingSecurityGroupId', 'ApiRoleArn', 'PipelineRoleArn']),
    );
  });
});
