/**
 * The prediction API on a SageMaker real-time endpoint (deployTarget `sagemaker`): the API image runs
 * with RETAIL_MLOPS_HOSTING=sagemaker (GET /ping, POST /invocations on 8080) and loads the pinned model
 * version from the registry, exactly as a pod does.
 *
 * - an execution role: pull the image from the stack's ECR repository, read `registry/` (and its KMS
 *   key), network interfaces in the private subnets, its own logs and metrics;
 * - the Model (image by digest, environment), the EndpointConfig (one variant, storage encrypted with
 *   the data key) and the Endpoint, updated blue/green: a 10% canary for five minutes, then all traffic,
 *   rolled back by SageMaker when one of the endpoint's alarms (5xx, p99 model latency) fires;
 * - Application Auto Scaling on the variant: target tracking of invocations per instance, min…max.
 *
 * The image and the model version come from `manifests/pins.json` (the environment's pin), so a
 * merged promotion deployed with `cdk deploy` and `retail-mlops promote` agree on what serves.
 */
import { Duration, Stack, Validations, type CfnElement } from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as ecr from 'aws-cdk-lib/aws-ecr';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import { Construct } from 'constructs';
import type { ResolvedEnvironmentProps } from './environments';
import type { Network } from './network';
import { DATA_PREFIXES, type DataStorage } from './storage';
import { HOSTING_VARIABLE } from '../../../server/hosting/managed-hosting';

/** The endpoint's one production variant. */
export const ENDPOINT_VARIANT_NAME = 'AllTraffic';

export interface ModelEndpointProps extends ResolvedEnvironmentProps {
  readonly network: Network;
  readonly storage: DataStorage;
  readonly repository: ecr.IRepository;
  /** The pinned model version (`RETAIL_MLOPS_MODEL`). */
  readonly modelVersion: string;
  /** The pinned API image digest (`sha256:…`). */
  readonly imageDigest: string;
}

export class ModelEndpoint extends Construct {
  readonly endpointName: string;
  readonly executionRole: iam.Role;
  readonly endpoint: sagemaker.CfnEndpoint;
  readonly scalableTarget: appscaling.ScalableTarget;
  /** The alarms SageMaker watches while it shifts traffic (a firing alarm rolls the update back). */
  readonly rollbackAlarms: readonly cloudwatch.Alarm[];
  readonly rollbackAlarmNames: readonly string[];

  constructor(scope: Construct, id: string, props: ModelEndpointProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.endpointName = `retail-mlops-${props.environment}`;
    const bucket = props.storage.dataBucket;

    const securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.network.vpc,
      description: 'SageMaker endpoint instances: HTTPS out (registry in S3, STS, ECR) only',
      allowAllOutbound: false,
    });
    securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'S3 through the gateway endpoint, AWS APIs');

    this.executionRole = new iam.Role(this, 'ExecutionRole', {
      description: `retail-mlops ${props.environment}: the SageMaker endpoint serving the API image`,
      assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': stack.account } } }),
    });
    const role = this.executionRole;
    props.repository.grantPull(role);
    role.addToPolicy(new iam.PolicyStatement({ sid: 'ReadRegistryObjects', actions: ['s3:GetObject'], resources: [bucket.arnForObjects(`${DATA_PREFIXES.registry}/*`)] }));
    role.addToPolicy(
      new iam.PolicyStatement({ sid: 'ListRegistry', actions: ['s3:ListBucket'], resources: [bucket.bucketArn], conditions: { StringLike: { 's3:prefix': [`${DATA_PREFIXES.registry}/*`] } } }),
    );
    props.storage.dataKey.grantDecrypt(role);
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'EndpointNetworkInterfaces',
        actions: [
          'ec2:CreateNetworkInterface',
          'ec2:CreateNetworkInterfacePermission',
          'ec2:DeleteNetworkInterface',
          'ec2:DeleteNetworkInterfacePermission',
          'ec2:DescribeNetworkInterfaces',
          'ec2:DescribeVpcs',
          'ec2:DescribeDhcpOptions',
          'ec2:DescribeSubnets',
          'ec2:DescribeSecurityGroups',
        ],
        resources: ['*'],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'EndpointLogs',
        actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
        resources: [`arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:/aws/sagemaker/Endpoints/${this.endpointName}:*`],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({ sid: 'EndpointMetrics', actions: ['cloudwatch:PutMetricData'], resources: ['*'], conditions: { StringLike: { 'cloudwatch:namespace': '/aws/sagemaker/*' } } }),
    );
    for (const [finding, reason] of [
      [
        'AwsSolutions-IAM5[Resource::*]',
        'ec2 network-interface actions for VPC endpoints and ecr:GetAuthorizationToken have no resource-level permissions; cloudwatch:PutMetricData is limited to SageMaker\'s namespaces by condition.',
      ],
      [
        `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:${stack.region}:${stack.account}:log-group:/aws/sagemaker/Endpoints/${this.endpointName}:*]`,
        'SageMaker writes one log stream per instance into the endpoint\'s own log group; the wildcard is that group\'s streams.',
      ],
      [
        `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(bucket.node.defaultChild as CfnElement)}.Arn>/${DATA_PREFIXES.registry}/*]`,
        'The endpoint reads any model version under the registry prefix (versions are added over time); nothing outside it.',
      ],
    ] as const) {
      Validations.of(role).acknowledge({ id: finding, reason });
    }

    const subnets = props.network.vpc.selectSubnets(props.network.privateSubnets).subnetIds;
    const model = new sagemaker.CfnModel(this, 'Model', {
      executionRoleArn: role.roleArn,
      primaryContainer: {
        image: `${props.repository.repositoryUri}@${props.imageDigest}`,
        environment: {
          [HOSTING_VARIABLE]: 'sagemaker',
          RETAIL_MLOPS_REGISTRY: `s3://${bucket.bucketName}/${DATA_PREFIXES.registry}`,
          RETAIL_MLOPS_MODEL: props.modelVersion,
        },
      },
      vpcConfig: { subnets, securityGroupIds: [securityGroup.securityGroupId] },
      enableNetworkIsolation: false,
      tags: [{ key: 'retail-mlops:model', value: props.modelVersion }],
    });
    model.node.addDependency(role);
    const endpointConfig = new sagemaker.CfnEndpointConfig(this, 'EndpointConfig', {
      kmsKeyId: props.storage.dataKey.keyArn,
      productionVariants: [
        {
          variantName: ENDPOINT_VARIANT_NAME,
          modelName: model.attrModelName,
          instanceType: props.endpoint.instanceType,
          initialInstanceCount: props.endpoint.minInstances,
          initialVariantWeight: 1,
          containerStartupHealthCheckTimeoutInSeconds: 600,
        },
      ],
    });

    const dimensionsMap = { EndpointName: this.endpointName, VariantName: ENDPOINT_VARIANT_NAME };
    // names as literals: the endpoint's rollback configuration names its alarms
    const alarmNames = [`${this.endpointName}-endpoint-5xx`, `${this.endpointName}-endpoint-latency-p99`] as const;
    const serverErrors = new cloudwatch.Alarm(this, 'ServerErrorsAlarm', {
      alarmName: alarmNames[0],
      alarmDescription: 'The endpoint answered 5xx: SageMaker rolls a blue/green update back while this fires.',
      metric: new cloudwatch.Metric({ namespace: 'AWS/SageMaker', metricName: 'Invocation5XXErrors', dimensionsMap, statistic: 'Sum', period: Duration.minutes(1) }),
      threshold: 0,
      evaluationPeriods: 2,
      datapointsToAlarm: 2,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const latency = new cloudwatch.Alarm(this, 'ModelLatencyAlarm', {
      alarmName: alarmNames[1],
      alarmDescription: 'The container\'s p99 latency is above 100 ms: SageMaker rolls a blue/green update back while this fires.',
      // ModelLatency is in microseconds
      metric: new cloudwatch.Metric({ namespace: 'AWS/SageMaker', metricName: 'ModelLatency', dimensionsMap, statistic: 'p99', period: Duration.minutes(1) }),
      threshold: 100_000,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.rollbackAlarms = [serverErrors, latency];

    this.rollbackAlarmNames = alarmNames;
    this.endpoint = new sagemaker.CfnEndpoint(this, 'Endpoint', {
      endpointName: this.endpointName,
      endpointConfigName: endpointConfig.attrEndpointConfigName,
      deploymentConfig: {
        blueGreenUpdatePolicy: {
          trafficRoutingConfiguration: { type: 'CANARY', canarySize: { type: 'CAPACITY_PERCENT', value: 10 }, waitIntervalInSeconds: 300 },
          terminationWaitInSeconds: 300,
          maximumExecutionTimeoutInSeconds: 3600,
        },
        autoRollbackConfiguration: { alarms: alarmNames.map((alarmName) => ({ alarmName })) },
      },
    });

    this.scalableTarget = new appscaling.ScalableTarget(this, 'Scaling', {
      serviceNamespace: appscaling.ServiceNamespace.SAGEMAKER,
      resourceId: `endpoint/${this.endpointName}/variant/${ENDPOINT_VARIANT_NAME}`,
      scalableDimension: 'sagemaker:variant:DesiredInstanceCount',
      minCapacity: props.endpoint.minInstances,
      maxCapacity: props.endpoint.maxInstances,
    });
    this.scalableTarget.node.addDependency(this.endpoint);
    this.scalableTarget.scaleToTrackMetric('InvocationsPerInstance', {
      predefinedMetric: appscaling.PredefinedMetric.SAGEMAKER_VARIANT_INVOCATIONS_PER_INSTANCE,
      targetValue: props.endpoint.invocationsPerInstanceTarget,
      scaleInCooldown: Duration.minutes(10),
      scaleOutCooldown: Duration.minutes(1),
    });
  }

  /**
   * Lets `role` (the CI pipeline's) roll the endpoint over as `retail-mlops promote` does: read the
   * serving model and configuration, create new ones named after the endpoint, update the endpoint, and
   * pass the endpoint's execution role to SageMaker only.
   */
  grantRollout(role: iam.IRole): void {
    const stack = Stack.of(this);
    const arn = (resource: string): string => `arn:${stack.partition}:sagemaker:${stack.region}:${stack.account}:${resource}`;
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'ReadEndpointModels', actions: ['sagemaker:DescribeModel', 'sagemaker:DescribeEndpointConfig'], resources: [arn('model/*'), arn('endpoint-config/*')] }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'CreateEndpointModels',
        actions: ['sagemaker:CreateModel', 'sagemaker:CreateEndpointConfig', 'sagemaker:AddTags'],
        resources: [arn(`model/${this.endpointName}-*`), arn(`endpoint-config/${this.endpointName}-*`)],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'UpdateEndpoint', actions: ['sagemaker:DescribeEndpoint', 'sagemaker:UpdateEndpoint'], resources: [arn(`endpoint/${this.endpointName}`)] }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'PassEndpointRole',
        actions: ['iam:PassRole'],
        resources: [this.executionRole.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } },
      }),
    );
    for (const [resource, reason] of [
      [arn('model/*'), 'Describing the serving model: CloudFormation names the first one, so its name is not known in advance; read only.'],
      [arn('endpoint-config/*'), 'Describing the serving endpoint configuration (named by CloudFormation at first); read only.'],
      [arn(`model/${this.endpointName}-*`), 'promote names new models after the endpoint and the release (<endpoint>-<version>-<digest>).'],
      [arn(`endpoint-config/${this.endpointName}-*`), 'promote names new endpoint configurations after the endpoint and the release.'],
    ] as const) {
      Validations.of(role).acknowledge({ id: `AwsSolutions-IAM5[Resource::${resource.replace(`arn:${stack.partition}`, 'arn:<AWS::Partition>')}]`, reason });
    }
  }
}
