/**
 * The API's Kubernetes cluster: EKS through aws-cdk-lib/aws-eks-v2 (native CloudFormation
 * resources, no kubectl Lambda), a private API endpoint only (Argo CD runs inside the cluster and
 * pulls from git, so nothing outside needs the Kubernetes API; people come in through SSM or a
 * VPN), secrets envelope-encrypted with a KMS key, every control-plane log type on, and two managed
 * node groups on Amazon Linux 2023: on-demand (the floor) and spot (scale-out, spread over several
 * instance types).
 *
 * The API pods' AWS identity is IRSA, as the manifests render it (the ServiceAccount's
 * `eks.amazonaws.com/role-arn` annotation): an IAM OIDC provider for the cluster's issuer, and a
 * role only the API's service account in its namespace can assume. The API pods and the monitor
 * CronJob run as it: it reads the model registry (S3 `registry/` and the Model Package Group) and
 * the lake, ships prediction-log segments to `lake/predictions/` (and applies their retention), and
 * writes drift reports and the monitor's state (`lake/reports/`, `lake/monitoring/`). Metrics come
 * from log lines (observability.ts), so it publishes none.
 */
import { KubectlV33Layer } from '@aws-cdk/lambda-layer-kubectl-v33';
import { CfnJson, RemovalPolicy, Stack, Validations, type CfnElement } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { ClusterBootstrap } from './cluster-bootstrap';
import type { ResolvedEnvironmentProps } from './environments';
import type { Network } from './network';
import { DATA_PREFIXES, type DataStorage } from './storage';
import type { ArgoCdApplicationChartProps } from '../../../manifests/argo-cd-application-chart';

/** The EKS cluster's name for an environment (its container logs go to /aws/containerinsights/<name>/application). */
export function apiClusterName(environment: string): string {
  return `retail-mlops-${environment}`;
}

/** What the API role may write below the lake: prediction-log segments, drift reports, the monitor's state. */
export const API_WRITABLE_LAKE_PREFIXES = ['predictions', 'reports', 'monitoring'] as const;

export interface ApiClusterProps extends ResolvedEnvironmentProps {
  readonly network: Network;
  readonly storage: DataStorage;
  readonly modelPackageGroupName: string;
  /** The Argo CD Application the cluster starts with (the team's repository, `manifests/dist/eks/<environment>`). */
  readonly application: ArgoCdApplicationChartProps;
}

export class ApiCluster extends Construct {
  readonly cluster: eks.Cluster;
  readonly onDemandNodes: eks.Nodegroup;
  readonly spotNodes: eks.Nodegroup;
  /** The role the API's service account assumes (IRSA). */
  readonly apiRole: iam.Role;
  /** Load Balancer Controller, Argo CD and its Application, CloudWatch observability. */
  readonly bootstrap: ClusterBootstrap;

  constructor(scope: Construct, id: string, props: ApiClusterProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const removalPolicy = props.removalPolicy === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
    const secretsKey = new kms.Key(this, 'SecretsKey', {
      alias: `alias/retail-mlops-${props.environment}-eks-secrets`,
      description: `retail-mlops ${props.environment}: EKS secrets envelope encryption`,
      enableKeyRotation: true,
      removalPolicy,
    });
    this.cluster = new eks.Cluster(this, 'Cluster', {
      clusterName: apiClusterName(props.environment),
      version: eks.KubernetesVersion.of(props.kubernetesVersion),
      vpc: props.network.vpc,
      vpcSubnets: [props.network.privateSubnets],
      endpointAccess: eks.EndpointAccess.PRIVATE,
      secretsEncryptionKey: secretsKey,
      clusterLogging: [
        eks.ClusterLoggingTypes.API,
        eks.ClusterLoggingTypes.AUDIT,
        eks.ClusterLoggingTypes.AUTHENTICATOR,
        eks.ClusterLoggingTypes.CONTROLLER_MANAGER,
        eks.ClusterLoggingTypes.SCHEDULER,
      ],
      defaultCapacityType: eks.DefaultCapacityType.NODEGROUP,
      defaultCapacity: 0,
      outputConfigCommand: false,
      // Helm charts and manifests are applied by a Lambda function in the private subnets (kubectl + helm layer)
      kubectlProviderOptions: { kubectlLayer: new KubectlV33Layer(this, 'KubectlLayer') },
      // the AWS Load Balancer Controller (Helm chart v2.17.1 from eks-charts, IRSA, its IAM policy)
      albController: { version: eks.AlbControllerVersion.V2_17_1 },
    });
    Validations.of(this.cluster).acknowledge({
      id: 'CloudFormation-Validate::W9009',
      reason: 'aws-eks-v2 itself writes EncryptionConfig.Resources ["secrets"] (the only value EKS accepts); the deprecation is CloudFormation\'s lint, not ours to change.',
    });
    Validations.of(this.cluster).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonEKSClusterPolicy]',
      reason: 'The EKS service role needs AWS\'s AmazonEKSClusterPolicy; EKS documents it as the cluster role\'s policy.',
    });
    acknowledgeBootstrapFindings(this.cluster);
    for (const [index, roleArn] of props.clusterAdminRoleArns.entries()) {
      this.cluster.grantAccess(`Admin${index}`, roleArn, [eks.AccessPolicy.fromAccessPolicyName('AmazonEKSClusterAdminPolicy', { accessScopeType: eks.AccessScopeType.CLUSTER })]);
    }

    const nodeRole = new iam.Role(this, 'NodeRole', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: 'EKS managed nodes (both node groups)',
      managedPolicies: ['AmazonEKSWorkerNodePolicy', 'AmazonEKS_CNI_Policy', 'AmazonEC2ContainerRegistryReadOnly', 'AmazonSSMManagedInstanceCore'].map((name) =>
        iam.ManagedPolicy.fromAwsManagedPolicyName(name),
      ),
    });
    for (const name of ['AmazonEKSWorkerNodePolicy', 'AmazonEKS_CNI_Policy', 'AmazonEC2ContainerRegistryReadOnly', 'AmazonSSMManagedInstanceCore']) {
      Validations.of(nodeRole).acknowledge({
        id: `AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/${name}]`,
        reason: `EKS managed nodes need AWS's ${name} (kubelet registration, pod networking, image pulls from ECR, SSM Session Manager instead of SSH); AWS maintains it as the services change.`,
      });
    }
    const nodeGroup = (name: string, capacityType: eks.CapacityType, size: ResolvedEnvironmentProps['spotNodes']): eks.Nodegroup =>
      this.cluster.addNodegroupCapacity(name, {
        nodegroupName: `retail-mlops-${props.environment}-${name.toLowerCase()}`,
        capacityType,
        instanceTypes: size.instanceTypes.map((type) => new ec2.InstanceType(type)),
        minSize: size.minSize,
        desiredSize: size.desiredSize,
        maxSize: size.maxSize,
        amiType: eks.NodegroupAmiType.AL2023_X86_64_STANDARD,
        subnets: props.network.privateSubnets,
        nodeRole,
        labels: { 'retail-mlops/capacity': capacityType === eks.CapacityType.SPOT ? 'spot' : 'on-demand' },
        enableNodeAutoRepair: true,
        maxUnavailable: 1,
      });
    this.onDemandNodes = nodeGroup('OnDemand', eks.CapacityType.ON_DEMAND, props.onDemandNodes);
    this.spotNodes = nodeGroup('Spot', eks.CapacityType.SPOT, props.spotNodes);

    // IRSA: the cluster's OIDC issuer as an IAM identity provider (one per cluster, shared with the
    // load balancer controller and the CloudWatch agent), and the API's role
    const oidcProvider = this.cluster.openIdConnectProvider;
    const issuer = oidcProvider.openIdConnectProviderIssuer;
    const conditions = new CfnJson(this, 'ApiServiceAccountCondition', {
      value: {
        [`${issuer}:sub`]: `system:serviceaccount:${props.apiNamespace}:${props.apiServiceAccount}`,
        [`${issuer}:aud`]: 'sts.amazonaws.com',
      },
    });
    this.apiRole = new iam.Role(this, 'ApiRole', {
      description: `retail-mlops ${props.environment} API pods and monitor (${props.apiNamespace}/${props.apiServiceAccount}): read the registry and the lake, ship predictions, write drift reports`,
      assumedBy: new iam.OpenIdConnectPrincipal(oidcProvider).withConditions({ StringEquals: conditions }),
    });
    const bucket = props.storage.dataBucket;
    this.apiRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReadRegistryAndLake',
        actions: ['s3:GetObject'],
        resources: [bucket.arnForObjects(`${DATA_PREFIXES.registry}/*`), bucket.arnForObjects(`${DATA_PREFIXES.lake}/*`)],
      }),
    );
    this.apiRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ListRegistryAndLake',
        actions: ['s3:ListBucket'],
        resources: [bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${DATA_PREFIXES.registry}/*`, `${DATA_PREFIXES.lake}/*`] } },
      }),
    );
    this.apiRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'WritePredictionsReportsMonitoring',
        actions: ['s3:PutObject', 's3:AbortMultipartUpload'],
        resources: API_WRITABLE_LAKE_PREFIXES.map((prefix) => bucket.arnForObjects(`${DATA_PREFIXES.lake}/${prefix}/*`)),
      }),
    );
    this.apiRole.addToPolicy(
      new iam.PolicyStatement({ sid: 'ExpirePredictions', actions: ['s3:DeleteObject'], resources: [bucket.arnForObjects(`${DATA_PREFIXES.lake}/predictions/*`)] }),
    );
    // SSE-KMS: reading needs Decrypt, writing GenerateDataKey (and Decrypt for multipart uploads)
    props.storage.dataKey.grant(this.apiRole, 'kms:Decrypt', 'kms:GenerateDataKey');
    const groupArn = `arn:${stack.partition}:sagemaker:${stack.region}:${stack.account}:model-package-group/${props.modelPackageGroupName}`;
    const packagesArn = `arn:${stack.partition}:sagemaker:${stack.region}:${stack.account}:model-package/${props.modelPackageGroupName}/*`;
    this.apiRole.addToPolicy(
      new iam.PolicyStatement({ sid: 'ReadModelPackages', actions: ['sagemaker:DescribeModelPackage', 'sagemaker:DescribeModelPackageGroup', 'sagemaker:ListTags'], resources: [groupArn, packagesArn] }),
    );
    this.apiRole.addToPolicy(new iam.PolicyStatement({ sid: 'ListModelPackages', actions: ['sagemaker:ListModelPackages'], resources: ['*'] }));
    const bucketId = stack.getLogicalId(bucket.node.defaultChild as CfnElement);
    Validations.of(this.apiRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${DATA_PREFIXES.registry}/*]`,
      reason: 'The API reads any object under the registry prefix (model versions are added over time); nothing outside it.',
    });
    Validations.of(this.apiRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${DATA_PREFIXES.lake}/*]`,
      reason: 'The monitor reads the lake (gold for the drift reference and later labels, the shipped predictions); lake files are added by every ingest.',
    });
    for (const prefix of API_WRITABLE_LAKE_PREFIXES) {
      Validations.of(this.apiRole).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${DATA_PREFIXES.lake}/${prefix}/*]`,
        reason: `Segments, reports and state are new objects with generated names under lake/${prefix}/ only.`,
      });
    }
    Validations.of(this.apiRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:sagemaker:${stack.region}:${stack.account}:model-package/${props.modelPackageGroupName}/*]`,
      reason: 'Model packages of the registry\'s group are versioned (…/<group>/<n>); the wildcard is the group\'s versions only.',
    });
    this.bootstrap = new ClusterBootstrap(this, 'Bootstrap', { cluster: this.cluster, application: props.application });
    for (const group of [this.onDemandNodes, this.spotNodes]) this.bootstrap.node.addDependency(group);
    Validations.of(this.apiRole).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'sagemaker:ListModelPackages has no resource-level permissions.',
    });
  }
}

/**
 * The findings of what aws-eks-v2 itself builds for the bootstrap (the kubectl provider's functions and
 * the AWS Load Balancer Controller's role), acknowledged where they are made, with the reasons.
 */
function acknowledgeBootstrapFindings(cluster: eks.Cluster): void {
  const kubectl = cluster.kubectlProvider;
  if (kubectl) {
    const lambdaPolicies = ['service-role/AWSLambdaBasicExecutionRole', 'service-role/AWSLambdaVPCAccessExecutionRole', 'AmazonEC2ContainerRegistryReadOnly'];
    for (const policy of lambdaPolicies) {
      Validations.of(kubectl).acknowledge({
        id: `AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/${policy}]`,
        reason: `aws-eks-v2's kubectl provider functions (Helm and manifests, run at deploy time only) use AWS's ${policy} for logs, network interfaces in the private subnets and the layer's images.`,
      });
    }
    Validations.of(kubectl).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::{"Fn::If":["ApiClusterKubectlProviderHandlerHasEcrPublic4898D0E9",{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":iam::aws:policy/AmazonElasticContainerRegistryPublicReadOnly"]]},{"Ref":"AWS::NoValue"}]}]',
      reason: 'aws-eks-v2 adds ECR Public read access to the kubectl handler only in partitions that have ECR Public (Helm pulls OCI charts); AWS-managed, read only.',
    });
    Validations.of(kubectl).acknowledge({
      id: 'AwsSolutions-L1',
      reason: 'The kubectl handler\'s runtime is chosen by aws-eks-v2 to match the kubectl layer (its Python code); upgrading aws-cdk-lib moves it.',
    });
    Validations.of(kubectl).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::<ApiClusterKubectlProviderHandler1F37400A.Arn>:*]',
      reason: 'The custom-resource framework invokes the kubectl handler\'s versions and aliases (the :* qualifier), that function only.',
    });
  }
  const controller = cluster.albController;
  if (controller) {
    const wildcards = [
      '*',
      'arn:<AWS::Partition>:ec2:*:*:security-group/*',
      ...['loadbalancer/app/*/*', 'loadbalancer/net/*/*', 'targetgroup/*/*', 'listener-rule/app/*/*/*', 'listener-rule/net/*/*/*', 'listener/app/*/*/*', 'listener/net/*/*/*'].map(
        (resource) => `arn:<AWS::Partition>:elasticloadbalancing:*:*:${resource}`,
      ),
    ];
    for (const resource of wildcards) {
      Validations.of(controller).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${resource}]`,
        reason: 'The AWS Load Balancer Controller\'s published IAM policy (as aws-eks-v2 ships it): it creates and tags load balancers, target groups and security groups whose names it picks; mutations are conditioned on its elbv2.k8s.aws/cluster tag.',
      });
    }
  }
}
