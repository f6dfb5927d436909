/**
 * One environment of retail-mlops on AWS: network, keys and buckets, audit trail, the API's EKS
 * cluster and image repository, SageMaker training and registry, the lake in Glue/Athena,
 * dashboard, alarms and budget, and (optionally) the CI pipeline's OIDC role. Its outputs are the
 * aws provider's options (providers/aws/provider.ts) and the EKS chart's `iamRoleArn`.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Annotations, CfnOutput, RemovalPolicy, Stack, Tags, type StackProps } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import type { Construct } from 'constructs';
import { AuditTrail } from './audit-trail';
import { ApiCluster, apiClusterName } from './cluster';
import { resolveEnvironmentProps, type ResolvedEnvironmentProps, type RetailMlopsEnvironmentProps } from './environments';
import { MachineLearning } from './machine-learning';
import { ModelEndpoint } from './model-endpoint';
import { Network } from './network';
import { Observability } from './observability';
import { PipelineAccess } from './pipeline-access';
import { DATA_PREFIXES, DataStorage } from './storage';
import { repositoryDeploymentTargets } from '../../../manifests/deployment-targets';
import { parseModelPins, type ModelPins } from '../../../manifests/model-pins';

export interface RetailMlopsStackProps extends StackProps, RetailMlopsEnvironmentProps {
  /**
   * What each environment serves (a SageMaker endpoint runs its environment's model version and image digest).
   * @default manifests/pins.json
   */
  readonly pins?: ModelPins;
}

/** The committed pins (manifests/pins.json), read at synthesis. */
export function committedModelPins(): ModelPins {
  const file = path.resolve(__dirname, '../../../manifests/pins.json');
  return parseModelPins(readFileSync(file, 'utf8'), file);
}

export class RetailMlopsStack extends Stack {
  readonly settings: ResolvedEnvironmentProps;
  readonly storage: DataStorage;
  readonly network: Network;
  readonly machineLearning: MachineLearning;
  /** The EKS cluster (deployTarget `eks`). */
  readonly apiCluster?: ApiCluster;
  /** The SageMaker endpoint (deployTarget `sagemaker`, once the environment pins an image digest). */
  readonly modelEndpoint?: ModelEndpoint;
  readonly repository: ecr.Repository;
  readonly observability: Observability;
  readonly auditTrail: AuditTrail;
  readonly pipelineAccess?: PipelineAccess;

  /** @throws InvalidOptionsError listing every problem of the environment's props */
  constructor(scope: Construct, id: string, props: RetailMlopsStackProps) {
    const settings = resolveEnvironmentProps(props);
    super(scope, id, {
      ...props,
      env: { account: settings.account, region: settings.region },
      description: `retail-mlops ${settings.environment}: basket price-sensitivity MLOps (lake, training, registry, API cluster)`,
      terminationProtection: settings.removalPolicy === 'retain',
    });
    this.settings = settings;
    const removalPolicy = settings.removalPolicy === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
    Tags.of(this).add('retail-mlops:environment', settings.environment);
    Tags.of(this).add('retail-mlops:managed-by', 'aws-cdk');

    this.storage = new DataStorage(this, 'Storage', settings);
    this.network = new Network(this, 'Network', { ...settings, logsKey: this.storage.logsKey });
    this.auditTrail = new AuditTrail(this, 'Audit', { ...settings, storage: this.storage });
    this.machineLearning = new MachineLearning(this, 'MachineLearning', { ...settings, network: this.network, storage: this.storage });
    this.repository = new ecr.Repository(this, 'ApiRepository', {
      repositoryName: `retail-mlops-${settings.environment}/api`,
      imageScanOnPush: true,
      imageTagMutability: ecr.TagMutability.IMMUTABLE,
      encryption: ecr.RepositoryEncryption.KMS,
      encryptionKey: this.storage.dataKey,
      lifecycleRules: [{ description: 'keep the last 100 images', maxImageCount: 100 }],
      removalPolicy,
      emptyOnDelete: settings.removalPolicy === 'destroy',
    });
    if (settings.deployTarget === 'eks') {
      const application = repositoryDeploymentTargets.argoCd('eks', settings.environment);
      this.apiCluster = new ApiCluster(this, 'Api', {
        ...settings,
        network: this.network,
        storage: this.storage,
        modelPackageGroupName: this.machineLearning.modelPackageGroupName,
        application: { ...application, gitRepositoryUrl: settings.gitRepositoryUrl ?? application.gitRepositoryUrl },
      });
    } else {
      const pin = (props.pins ?? committedModelPins())[settings.environment];
      if (pin.imageDigest === undefined) {
        Annotations.of(this).addWarningV2(
          'retail-mlops:endpoint-needs-image',
          `deployTarget sagemaker: manifests/pins.json pins no imageDigest for ${settings.environment} yet, so no endpoint is created; push an image and promote (the pipeline's build-image and promote stages), then deploy again`,
        );
      } else {
        this.modelEndpoint = new ModelEndpoint(this, 'Endpoint', {
          ...settings,
          network: this.network,
          storage: this.storage,
          repository: this.repository,
          modelVersion: pin.model,
          imageDigest: pin.imageDigest,
        });
      }
    }
    this.observability = new Observability(this, 'Observability', {
      ...settings,
      logsKey: this.storage.logsKey,
      athenaWorkGroupName: this.machineLearning.athenaWorkGroupName,
      clusterName: apiClusterName(settings.environment),
    });
    if (settings.pipelineOidc) {
      this.pipelineAccess = new PipelineAccess(this, 'Pipeline', {
        ...settings,
        trust: settings.pipelineOidc,
        storage: this.storage,
        machineLearning: this.machineLearning,
        repository: this.repository,
      });
      this.modelEndpoint?.grantRollout(this.pipelineAccess.role);
    }

    const output = (name: string, value: string, description: string): CfnOutput => new CfnOutput(this, name, { value, description });
    output('Region', this.region, 'provider option region');
    output('DataBucket', this.storage.dataBucket.bucketName, 'provider option bucket');
    output('DataKeyArn', this.storage.dataKey.keyArn, 'provider option kmsKeyId');
    output('LakeUri', `s3://${this.storage.dataBucket.bucketName}/${DATA_PREFIXES.lake}`, 'the lake (pushLake, registerLakePartitions lakeUri)');
    output('SageMakerExecutionRoleArn', this.machineLearning.executionRole.roleArn, 'provider option roleArn');
    output('ModelPackageGroupName', this.machineLearning.modelPackageGroupName, 'provider option modelPackageGroupName');
    output('TrainingSubnetIds', this.network.vpc.selectSubnets(this.network.privateSubnets).subnetIds.join(','), 'provider option subnetIds');
    output('TrainingSecurityGroupId', this.network.trainingSecurityGroup.securityGroupId, 'provider option securityGroupIds');
    output('ApiRepositoryUri', this.repository.repositoryUri, 'the API image (provider option servingImage = this:<tag>)');
    if (this.apiCluster) {
      output('ApiRoleArn', this.apiCluster.apiRole.roleArn, 'EksApiChart iamRoleArn (IRSA)');
      output('ClusterName', this.apiCluster.cluster.clusterName, 'aws eks update-kubeconfig --name …');
    }
    output('ApplicationLogGroup', this.observability.applicationLogs.logGroupName, "the containers' logs (the CloudWatch observability add-on writes here; metric filters read the telemetry)");
    if (this.modelEndpoint) {
      output('EndpointName', this.modelEndpoint.endpointName, 'the SageMaker endpoint serving the API (retail-mlops promote updates it)');
      output('EndpointExecutionRoleArn', this.modelEndpoint.executionRole.roleArn, 'the role the endpoint\'s models run as');
      output('EndpointRollbackAlarms', this.modelEndpoint.rollbackAlarmNames.join(','), 'alarms that roll a blue/green update back');
    }
    output('GlueDatabase', this.machineLearning.glueDatabaseName, 'registerLakePartitions databaseName');
    output('AthenaWorkGroup', this.machineLearning.athenaWorkGroupName, 'Athena workgroup for lake queries');
    if (this.pipelineAccess) output('PipelineRoleArn', this.pipelineAccess.role.roleArn, 'the role CI jobs assume with their OIDC token');
  }
}
