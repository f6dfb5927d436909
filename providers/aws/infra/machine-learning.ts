/**
 * Training, the registry and the query engine:
 *
 * - the SageMaker execution role training jobs run as, least privilege: read the job's channels
 *   and write its outputs and checkpoints under `training/jobs/` in the data bucket, use the data
 *   key for them, manage the network interfaces of a job in the VPC's private subnets, write the
 *   job's logs and metrics; it can be assumed by SageMaker for this account only;
 * - the Model Package Group that is the model registry;
 * - the Glue database with the lake's silver and gold tables (the same definitions the provider's
 *   registerLakePartitions uses), and an Athena workgroup whose results are encrypted with the data
 *   key, that enforces its settings, and stops queries that would scan too much.
 */
import { RemovalPolicy, Stack, Validations, type CfnElement } from 'aws-cdk-lib';
import * as athena from 'aws-cdk-lib/aws-athena';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import { Construct } from 'constructs';
import type { ResolvedEnvironmentProps } from './environments';
import type { Network } from './network';
import { DATA_PREFIXES, type DataStorage } from './storage';
import { lakeTableDefinitions, PARQUET_FORMAT, type LakeTableDefinition } from '../lake-catalog';

export interface MachineLearningProps extends ResolvedEnvironmentProps {
  readonly network: Network;
  readonly storage: DataStorage;
}

export class MachineLearning extends Construct {
  readonly executionRole: iam.Role;
  readonly modelPackageGroupName: string;
  readonly glueDatabaseName: string;
  readonly athenaWorkGroupName: string;

  constructor(scope: Construct, id: string, props: MachineLearningProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const removalPolicy = props.removalPolicy === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
    const bucket = props.storage.dataBucket;
    const jobsPrefix = `${DATA_PREFIXES.training}/jobs`;

    // ---- SageMaker execution role
    this.executionRole = new iam.Role(this, 'ExecutionRole', {
      description: `retail-mlops ${props.environment}: SageMaker training jobs (built-in XGBoost)`,
      assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': stack.account } } }),
    });
    const role = this.executionRole;
    role.addToPolicy(new iam.PolicyStatement({ sid: 'ReadChannelsAndCheckpoints', actions: ['s3:GetObject'], resources: [bucket.arnForObjects(`${jobsPrefix}/*`)] }));
    role.addToPolicy(new iam.PolicyStatement({ sid: 'WriteOutputsAndCheckpoints', actions: ['s3:PutObject', 's3:AbortMultipartUpload'], resources: [bucket.arnForObjects(`${jobsPrefix}/*`)] }));
    role.addToPolicy(
      new iam.PolicyStatement({ sid: 'ListJobObjects', actions: ['s3:ListBucket'], resources: [bucket.bucketArn], conditions: { StringLike: { 's3:prefix': [`${jobsPrefix}/*`] } } }),
    );
    props.storage.dataKey.grantEncryptDecrypt(role);
    const subnetArns = props.network.vpc
      .selectSubnets(props.network.privateSubnets)
      .subnetIds.map((subnetId) => `arn:${stack.partition}:ec2:${stack.region}:${stack.account}:subnet/${subnetId}`);
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'NetworkInterfacesInPrivateSubnets',
        actions: ['ec2:CreateNetworkInterface'],
        resources: [
          ...subnetArns,
          `arn:${stack.partition}:ec2:${stack.region}:${stack.account}:security-group/${props.network.trainingSecurityGroup.securityGroupId}`,
          `arn:${stack.partition}:ec2:${stack.region}:${stack.account}:network-interface/*`,
        ],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ManageJobNetworkInterfaces',
        actions: ['ec2:CreateNetworkInterfacePermission', 'ec2:DeleteNetworkInterface', 'ec2:DeleteNetworkInterfacePermission'],
        resources: [`arn:${stack.partition}:ec2:${stack.region}:${stack.account}:network-interface/*`],
        conditions: { ArnEquals: { 'ec2:Vpc': `arn:${stack.partition}:ec2:${stack.region}:${stack.account}:vpc/${props.network.vpc.vpcId}` } },
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'DescribeNetwork',
        actions: ['ec2:DescribeNetworkInterfaces', 'ec2:DescribeVpcs', 'ec2:DescribeDhcpOptions', 'ec2:DescribeSubnets', 'ec2:DescribeSecurityGroups'],
        resources: ['*'],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'JobLogs',
        actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
        resources: [`arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:/aws/sagemaker/TrainingJobs:*`],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'JobMetrics',
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'],
        conditions: { StringLike: { 'cloudwatch:namespace': '/aws/sagemaker/*' } },
      }),
    );
    for (const [finding, reason] of [
      ['AwsSolutions-IAM5[Resource::*]', 'ec2:Describe* actions have no resource-level permissions; cloudwatch:PutMetricData has none and is limited to SageMaker\'s namespaces by condition.'],
      [
        `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:${stack.region}:${stack.account}:network-interface/*]`,
        'SageMaker creates a network interface per job instance with ids unknown in advance; creation is limited to the private subnets and the training security group, the rest to the VPC by condition.',
      ],
      [
        `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:${stack.region}:${stack.account}:log-group:/aws/sagemaker/TrainingJobs:*]`,
        'SageMaker writes one log stream per job into its fixed log group; the wildcard is that group\'s streams.',
      ],
      ['AwsSolutions-IAM5[Action::kms:GenerateDataKey*]', 'Granted by Key.grantEncryptDecrypt for the data key only (S3 objects, volume and output encryption).'],
      ['AwsSolutions-IAM5[Action::kms:ReEncrypt*]', 'Granted by Key.grantEncryptDecrypt for the data key only.'],
    ] as const) {
      Validations.of(role).acknowledge({ id: finding, reason });
    }
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(bucket.node.defaultChild as CfnElement)}.Arn>/${jobsPrefix}/*]`,
      reason: 'Each training job reads and writes its own folder under training/jobs/ (names are created per job); nothing outside that prefix.',
    });

    // ---- the model registry
    this.modelPackageGroupName = `retail-mlops-${props.environment}`;
    const group = new sagemaker.CfnModelPackageGroup(this, 'ModelPackageGroup', {
      modelPackageGroupName: this.modelPackageGroupName,
      modelPackageGroupDescription: `retail-mlops ${props.environment}: basket price-sensitivity models (LA/MM/UM)`,
    });
    group.applyRemovalPolicy(removalPolicy);

    // ---- the lake in Glue, queried with Athena
    this.glueDatabaseName = `retail_mlops_${props.environment}`;
    const database = new glue.CfnDatabase(this, 'LakeDatabase', {
      catalogId: stack.account,
      databaseInput: { name: this.glueDatabaseName, description: 'retail-mlops lake (LGSR baskets): silver and gold layers' },
    });
    database.applyRemovalPolicy(removalPolicy);
    const tables = lakeTableDefinitions(`s3://${bucket.bucketName}/${DATA_PREFIXES.lake}`);
    for (const [name, table] of Object.entries(tables) as [string, LakeTableDefinition][]) {
      const resource = new glue.CfnTable(this, `${name[0].toUpperCase()}${name.slice(1)}Table`, {
        catalogId: stack.account,
        databaseName: this.glueDatabaseName,
        tableInput: {
          name: table.name,
          description: table.description,
          tableType: 'EXTERNAL_TABLE',
          parameters: { classification: 'parquet', EXTERNAL: 'TRUE' },
          partitionKeys: table.partitionKeys.map((key) => ({ name: key.name, type: key.type, comment: key.comment })),
          storageDescriptor: {
            columns: table.columns.map((column) => ({ name: column.name, type: column.type, comment: column.comment })),
            location: table.location,
            inputFormat: PARQUET_FORMAT.inputFormat,
            outputFormat: PARQUET_FORMAT.outputFormat,
            serdeInfo: { serializationLibrary: PARQUET_FORMAT.serializationLibrary, parameters: { 'serialization.format': '1' } },
            compressed: false,
            storedAsSubDirectories: false,
          },
        },
      });
      resource.node.addDependency(database);
      resource.applyRemovalPolicy(removalPolicy);
    }
    this.athenaWorkGroupName = `retail-mlops-${props.environment}`;
    const workGroup = new athena.CfnWorkGroup(this, 'AthenaWorkGroup', {
      name: this.athenaWorkGroupName,
      description: `retail-mlops ${props.environment}: ingest and feature queries over the lake`,
      recursiveDeleteOption: props.removalPolicy === 'destroy',
      workGroupConfiguration: {
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        bytesScannedCutoffPerQuery: props.athenaBytesScannedCutoffGib * 1024 ** 3,
        engineVersion: { selectedEngineVersion: 'Athena engine version 3' },
        resultConfiguration: {
          outputLocation: `s3://${props.storage.athenaResultsBucket.bucketName}/results/`,
          encryptionConfiguration: { encryptionOption: 'SSE_KMS', kmsKey: props.storage.dataKey.keyArn },
        },
      },
    });
    workGroup.applyRemovalPolicy(removalPolicy);
  }
}
