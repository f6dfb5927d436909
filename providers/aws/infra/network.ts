/**
 * The network: a VPC with public subnets (NAT gateways only) and private subnets (EKS nodes, the
 * internal ALB, SageMaker training jobs, the VPC endpoints), flow logs to CloudWatch Logs, and
 * endpoints so AWS traffic stays in the VPC: an S3 gateway endpoint (free), and the interface endpoints
 * the environment lists (default STS for IRSA and ECR api + dkr for image pulls; SageMaker, CloudWatch
 * Logs and metrics and Glue can be added — each costs about $8 a month per zone, or goes through NAT). Training jobs get a security group that
 * allows HTTPS out (the endpoints and S3), and nothing else.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { InterfaceEndpointName, ResolvedEnvironmentProps } from './environments';

/** Interface endpoints, by the name the tests and outputs use (the environment's `interfaceEndpoints` picks some). */
export const INTERFACE_ENDPOINTS: Readonly<Record<InterfaceEndpointName, ec2.InterfaceVpcEndpointAwsService>> = {
  Sts: ec2.InterfaceVpcEndpointAwsService.STS,
  EcrApi: ec2.InterfaceVpcEndpointAwsService.ECR,
  EcrDocker: ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
  SageMakerApi: ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_API,
  SageMakerRuntime: ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_RUNTIME,
  CloudWatchLogs: ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
  CloudWatchMetrics: ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_MONITORING,
  Glue: ec2.InterfaceVpcEndpointAwsService.GLUE,
};

export interface NetworkProps extends ResolvedEnvironmentProps {
  readonly logsKey: kms.IKey;
}

export class Network extends Construct {
  readonly vpc: ec2.Vpc;
  readonly privateSubnets: ec2.SubnetSelection = { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };
  /** For SageMaker training jobs' network interfaces. */
  readonly trainingSecurityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    const flowLogs = new logs.LogGroup(this, 'FlowLogs', {
      retention: props.logRetentionDays as logs.RetentionDays,
      encryptionKey: props.logsKey,
      removalPolicy: props.removalPolicy === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    });
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr(props.vpcCidr),
      maxAzs: props.maxAzs,
      natGateways: props.natGateways,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24, mapPublicIpOnLaunch: false },
        { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 19 },
      ],
      restrictDefaultSecurityGroup: false,
      flowLogs: { all: { destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogs), trafficType: ec2.FlowLogTrafficType.ALL } },
      gatewayEndpoints: { S3: { service: ec2.GatewayVpcEndpointAwsService.S3, subnets: [this.privateSubnets] } },
    });
    // the endpoints admit HTTPS from the VPC's range only
    const endpointSecurityGroup = new ec2.SecurityGroup(this, 'EndpointSecurityGroup', {
      vpc: this.vpc,
      description: 'Interface VPC endpoints: HTTPS from inside the VPC',
      allowAllOutbound: false,
    });
    endpointSecurityGroup.addIngressRule(ec2.Peer.ipv4(props.vpcCidr), ec2.Port.tcp(443), 'HTTPS from the VPC');
    for (const name of props.interfaceEndpoints) {
      const service = INTERFACE_ENDPOINTS[name];
      this.vpc.addInterfaceEndpoint(name, {
        service,
        subnets: this.privateSubnets,
        privateDnsEnabled: true,
        open: false,
        securityGroups: [endpointSecurityGroup],
      });
    }

    this.trainingSecurityGroup = new ec2.SecurityGroup(this, 'TrainingSecurityGroup', {
      vpc: this.vpc,
      description: 'SageMaker training jobs: HTTPS out (VPC endpoints, S3) only',
      allowAllOutbound: false,
    });
    this.trainingSecurityGroup.addEgressRule(ec2.Peer.ipv4(props.vpcCidr), ec2.Port.tcp(443), 'VPC interface endpoints');
    // S3's addresses are a regional prefix list whose id differs per region (a deploy-time lookup);
    // HTTPS to anywhere is routed to the S3 gateway endpoint by the subnets' route tables, and the
    // training container itself has no network at all (network isolation)
    this.trainingSecurityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'S3 through the gateway endpoint');
    // distributed training (more than one instance) talks between instances, encrypted
    this.trainingSecurityGroup.addIngressRule(this.trainingSecurityGroup, ec2.Port.allTcp(), 'between the instances of one training job');
    this.trainingSecurityGroup.addEgressRule(this.trainingSecurityGroup, ec2.Port.allTcp(), 'between the instances of one training job');
  }
}

