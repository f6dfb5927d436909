/**
 * The AWS environments the stack is deployed to, as typed props: one RetailMlopsStack per
 * environment, each in its own account (the accounts below are placeholders: put yours here, and
 * their availability zones in cdk.context.json, which `cdk synth` reads offline).
 *
 * Props are flat and readonly, documented with their defaults, and validated eagerly: every
 * problem is reported at once (InvalidOptionsError).
 */
import { ProblemCollector } from '../../../core/errors';

/** The deployment environments, in promotion order (the same names as manifests/environments.ts). */
export const AWS_ENVIRONMENTS = ['dev', 'staging', 'production'] as const;
export type AwsEnvironmentName = (typeof AWS_ENVIRONMENTS)[number];

/** A managed node group's shape. */
export interface NodeGroupSize {
  readonly instanceTypes: readonly string[];
  readonly minSize: number;
  readonly desiredSize: number;
  readonly maxSize: number;
}

/** Interface VPC endpoints the network can have (network.ts INTERFACE_ENDPOINTS); each costs about $8/month per zone. */
export const INTERFACE_ENDPOINT_NAMES = ['Sts', 'EcrApi', 'EcrDocker', 'SageMakerApi', 'SageMakerRuntime', 'CloudWatchLogs', 'CloudWatchMetrics', 'Glue'] as const;
export type InterfaceEndpointName = (typeof INTERFACE_ENDPOINT_NAMES)[number];

/** Where the prediction API runs in an environment. */
export type DeployTarget =
  /** EKS with Argo CD syncing `manifests/dist/eks/<environment>` (the default). */
  | 'eks'
  /** A SageMaker real-time endpoint serving the same image (RETAIL_MLOPS_HOSTING=sagemaker); no cluster. */
  | 'sagemaker';

/** The SageMaker endpoint's size and scaling (deployTarget `sagemaker`). */
export interface ManagedEndpointSize {
  /** @default 'ml.c6i.large' */
  readonly instanceType?: string;
  /** Instances at rest; 2 or more spreads over zones. @default 1 (production: 2) */
  readonly minInstances?: number;
  /** @default 4 */
  readonly maxInstances?: number;
  /** Target of the target-tracking policy: invocations per instance per minute. @default 3000 */
  readonly invocationsPerInstanceTarget?: number;
}

/** A CI system whose jobs assume the pipeline role through OIDC (no long-lived keys). */
export interface PipelineOidcTrust {
  /** The issuer URL, e.g. `https://token.actions.githubusercontent.com`. */
  readonly issuerUrl: string;
  /** The `aud` claim the CI system puts in its tokens, e.g. `sts.amazonaws.com`. */
  readonly audience: string;
  /** `sub` claims allowed to assume the role (wildcards `*` allowed), e.g. `repo:acme/retail-mlops:ref:refs/heads/main`. */
  readonly subjects: readonly string[];
  /**
   * Create the account's IAM OIDC provider for the issuer (one per issuer and account).
   * @default true
   */
  readonly createProvider?: boolean;
}

export interface RetailMlopsEnvironmentProps {
  readonly environment: AwsEnvironmentName;
  /** 12-digit AWS account id. */
  readonly account: string;
  readonly region: string;
  /**
   * The VPC's range (the manifests' NetworkPolicy lets in the ALB from this range).
   * @default '10.0.0.0/16'
   */
  readonly vpcCidr?: string;
  /**
   * Availability zones used (2 or 3).
   * @default 2
   */
  readonly maxAzs?: number;
  /**
   * NAT gateways (1 is cheaper, one per AZ survives an AZ outage).
   * @default 1
   */
  readonly natGateways?: number;
  /**
   * Interface VPC endpoints (private DNS). Without one, that service is reached through the NAT gateway
   * (still TLS, but billed per GB and leaving the VPC); S3 always has its free gateway endpoint.
   * @default ['Sts', 'EcrApi', 'EcrDocker'] (IRSA token exchange and image pulls)
   */
  readonly interfaceEndpoints?: readonly InterfaceEndpointName[];
  /**
   * Where the API runs: `eks` (a cluster with Argo CD) or `sagemaker` (a real-time endpoint, no cluster).
   * @default 'eks'
   */
  readonly deployTarget?: DeployTarget;
  /** The endpoint's size and scaling (deployTarget `sagemaker`). @default see ManagedEndpointSize */
  readonly endpoint?: ManagedEndpointSize;
  /**
   * The git repository Argo CD syncs (the team's). @default the EKS Argo CD Application's repository in manifests/deployment-targets.ts
   */
  readonly gitRepositoryUrl?: string;
  /**
   * Kubernetes version of the EKS cluster.
   * @default '1.33'
   */
  readonly kubernetesVersion?: string;
  /** The on-demand node group (system pods, and the API's guaranteed floor). */
  readonly onDemandNodes: NodeGroupSize;
  /** The spot node group (API scale-out; interruptions are absorbed by the PodDisruptionBudget and HPA). */
  readonly spotNodes: NodeGroupSize;
  /**
   * IAM roles given cluster-admin access entries (people reach the private endpoint through SSM or a VPN).
   * @default []
   */
  readonly clusterAdminRoleArns?: readonly string[];
  /**
   * Monthly cost budget in USD; notifications at 80% and 100% actual, and 100% forecast.
   * @default 500
   */
  readonly monthlyBudgetUsd?: number;
  /**
   * Who receives alarm and budget notifications.
   * @default []
   */
  readonly notificationEmails?: readonly string[];
  /**
   * `destroy`: `cdk destroy` removes buckets (emptied first), keys, logs and the registry; `retain`: they outlive the stack.
   * @default 'retain'
   */
  readonly removalPolicy?: 'destroy' | 'retain';
  /**
   * Raw input files move to S3 Standard-IA after this many days.
   * @default 30
   */
  readonly rawInfrequentAccessAfterDays?: number;
  /**
   * … and to S3 Glacier Instant Retrieval after this many (readable at once: a lake pull still works).
   * @default 90
   */
  readonly rawGlacierAfterDays?: number;
  /**
   * Quarantined rows expire after this many days.
   * @default 90
   */
  readonly quarantineExpiryDays?: number;
  /**
   * The prediction log expires after this many days.
   * @default 365
   */
  readonly predictionsExpiryDays?: number;
  /**
   * Retention of CloudWatch log groups (VPC flow logs, CloudTrail, EKS control plane).
   * @default 90
   */
  readonly logRetentionDays?: number;
  /**
   * Alarm: the API's p95 latency above this many milliseconds (3 of 5 minutes).
   * @default 50
   */
  readonly latencyP95AlarmMs?: number;
  /**
   * Alarm: the share of 5xx responses above this (3 of 5 minutes).
   * @default 0.01
   */
  readonly errorRateAlarmThreshold?: number;
  /**
   * Alarm: the drift score (population stability index of the predicted class mix) above this.
   * @default 0.2
   */
  readonly driftAlarmThreshold?: number;
  /**
   * Athena stops a query that would scan more than this many GiB.
   * @default 10
   */
  readonly athenaBytesScannedCutoffGib?: number;
  /**
   * CI systems that may assume the pipeline role.
   * @default - no pipeline role
   */
  readonly pipelineOidc?: PipelineOidcTrust;
  /**
   * Kubernetes namespace of the API (as the manifests render it).
   * @default `retail-mlops-${environment}`
   */
  readonly apiNamespace?: string;
  /**
   * The API's Kubernetes service account (the manifests' chart name).
   * @default 'retail-mlops-api'
   */
  readonly apiServiceAccount?: string;
}

/** Props with every default filled in. */
export type ResolvedEnvironmentProps = Required<Omit<RetailMlopsEnvironmentProps, 'pipelineOidc' | 'endpoint' | 'gitRepositoryUrl'>> &
  Pick<RetailMlopsEnvironmentProps, 'pipelineOidc' | 'gitRepositoryUrl'> & { readonly endpoint: Required<ManagedEndpointSize> };

const positiveInteger = (value: number): boolean => Number.isInteger(value) && value > 0;
/** The retention periods CloudWatch Logs accepts. */
const LOG_RETENTION_DAYS: readonly number[] = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

/**
 * Fills in the defaults and checks everything, reporting all problems at once.
 * @throws InvalidOptionsError
 */
export function resolveEnvironmentProps(props: RetailMlopsEnvironmentProps): ResolvedEnvironmentProps {
  const problems = new ProblemCollector(`environment ${String(props?.environment)}`);
  problems.check(AWS_ENVIRONMENTS.includes(props?.environment), `environment must be one of ${AWS_ENVIRONMENTS.join(', ')}, got ${JSON.stringify(props?.environment)}`);
  problems.check(/^\d{12}$/.test(props?.account ?? ''), `account must be a 12-digit account id, got ${JSON.stringify(props?.account)}`);
  problems.check(/^[a-z]{2}(-[a-z]+)+-\d$/.test(props?.region ?? ''), `region must be an AWS region, got ${JSON.stringify(props?.region)}`);
  const resolved: ResolvedEnvironmentProps = {
    ...props,
    vpcCidr: props.vpcCidr ?? '10.0.0.0/16',
    maxAzs: props.maxAzs ?? 2,
    natGateways: props.natGateways ?? 1,
    interfaceEndpoints: props.interfaceEndpoints ?? ['Sts', 'EcrApi', 'EcrDocker'],
    deployTarget: props.deployTarget ?? 'eks',
    endpoint: {
      instanceType: props.endpoint?.instanceType ?? 'ml.c6i.large',
      minInstances: props.endpoint?.minInstances ?? (props.environment === 'production' ? 2 : 1),
      maxInstances: props.endpoint?.maxInstances ?? 4,
      invocationsPerInstanceTarget: props.endpoint?.invocationsPerInstanceTarget ?? 3000,
    },
    kubernetesVersion: props.kubernetesVersion ?? '1.33',
    clusterAdminRoleArns: props.clusterAdminRoleArns ?? [],
    monthlyBudgetUsd: props.monthlyBudgetUsd ?? 500,
    notificationEmails: props.notificationEmails ?? [],
    removalPolicy: props.removalPolicy ?? 'retain',
    rawInfrequentAccessAfterDays: props.rawInfrequentAccessAfterDays ?? 30,
    rawGlacierAfterDays: props.rawGlacierAfterDays ?? 90,
    quarantineExpiryDays: props.quarantineExpiryDays ?? 90,
    predictionsExpiryDays: props.predictionsExpiryDays ?? 365,
    logRetentionDays: props.logRetentionDays ?? 90,
    latencyP95AlarmMs: props.latencyP95AlarmMs ?? 50,
    errorRateAlarmThreshold: props.errorRateAlarmThreshold ?? 0.01,
    driftAlarmThreshold: props.driftAlarmThreshold ?? 0.2,
    athenaBytesScannedCutoffGib: props.athenaBytesScannedCutoffGib ?? 10,
    apiNamespace: props.apiNamespace ?? `retail-mlops-${props.environment}`,
    apiServiceAccount: props.apiServiceAccount ?? 'retail-mlops-api',
  };
  problems.check(/^10\.\d{1,3}\.0\.0\/16$/.test(resolved.vpcCidr), `vpcCidr must be a 10.x.0.0/16 range, got ${JSON.stringify(resolved.vpcCidr)}`);
  problems.check([2, 3].includes(resolved.maxAzs), `maxAzs must be 2 or 3, got ${resolved.maxAzs}`);
  problems.check(Number.isInteger(resolved.natGateways) && resolved.natGateways >= 1 && resolved.natGateways <= resolved.maxAzs, `natGateways must be from 1 to maxAzs (${resolved.maxAzs}), got ${resolved.natGateways}`);
  problems.check(
    resolved.interfaceEndpoints.every((name) => (INTERFACE_ENDPOINT_NAMES as readonly string[]).includes(name)),
    `interfaceEndpoints must be among ${INTERFACE_ENDPOINT_NAMES.join(', ')}, got ${JSON.stringify(resolved.interfaceEndpoints)}`,
  );
  problems.check(['eks', 'sagemaker'].includes(resolved.deployTarget), `deployTarget must be eks or sagemaker, got ${JSON.stringify(resolved.deployTarget)}`);
  const endpoint = resolved.endpoint;
  problems.check(/^ml\.[a-z0-9]+\.[a-z0-9]+$/.test(endpoint.instanceType), `endpoint.instanceType must be a SageMaker instance type (ml.<family>.<size>), got ${JSON.stringify(endpoint.instanceType)}`);
  problems.check(
    Number.isInteger(endpoint.minInstances) && endpoint.minInstances >= 1 && Number.isInteger(endpoint.maxInstances) && endpoint.maxInstances >= endpoint.minInstances,
    `endpoint instances must satisfy 1 ≤ minInstances ≤ maxInstances, got ${endpoint.minInstances} … ${endpoint.maxInstances}`,
  );
  problems.check(positiveInteger(endpoint.invocationsPerInstanceTarget), `endpoint.invocationsPerInstanceTarget must be a positive integer, got ${endpoint.invocationsPerInstanceTarget}`);
  problems.check(
    props.gitRepositoryUrl === undefined || /^(https:\/\/|ssh:\/\/|git@)\S+$/.test(props.gitRepositoryUrl),
    `gitRepositoryUrl must be an https://, ssh:// or git@ URL, got ${JSON.stringify(props.gitRepositoryUrl)}`,
  );
  problems.check(/^1\.(3[0-7])$/.test(resolved.kubernetesVersion), `kubernetesVersion must be 1.30 … 1.37, got ${JSON.stringify(resolved.kubernetesVersion)}`);
  for (const [name, group] of [['onDemandNodes', props.onDemandNodes], ['spotNodes', props.spotNodes]] as const) {
    const valid = group !== undefined && group.instanceTypes?.length > 0 && group.instanceTypes.every((type) => /^[a-z][a-z0-9-]*\.[a-z0-9]+$/.test(type));
    problems.check(valid, `${name}.instanceTypes must list EC2 instance types, got ${JSON.stringify(group?.instanceTypes)}`);
    problems.check(
      group !== undefined && Number.isInteger(group.minSize) && group.minSize >= 0 &&
        group.minSize <= group.desiredSize && group.desiredSize <= group.maxSize && group.maxSize >= 1,
      `${name} sizes must satisfy 0 ≤ minSize ≤ desiredSize ≤ maxSize, maxSize ≥ 1, got ${JSON.stringify(group && { min: group.minSize, desired: group.desiredSize, max: group.maxSize })}`,
    );
  }
  problems.check(resolved.spotNodes?.instanceTypes?.length >= 2, 'spotNodes.instanceTypes should list at least two types (spot capacity is found across pools)');
  problems.check(resolved.clusterAdminRoleArns.every((arn) => /^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/.test(arn)), 'clusterAdminRoleArns must be IAM role ARNs');
  problems.check(resolved.monthlyBudgetUsd > 0 && Number.isFinite(resolved.monthlyBudgetUsd), `monthlyBudgetUsd must be a positive number, got ${resolved.monthlyBudgetUsd}`);
  problems.check(resolved.notificationEmails.every((email) => /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)), 'notificationEmails must be e-mail addresses');
  problems.check(resolved.notificationEmails.length <= 10, 'at most 10 notificationEmails (AWS Budgets allows 11 subscribers, one is the SNS topic)');
  problems.check(LOG_RETENTION_DAYS.includes(resolved.logRetentionDays), `logRetentionDays must be one CloudWatch Logs offers (${LOG_RETENTION_DAYS.join(', ')}), got ${resolved.logRetentionDays}`);
  problems.check(['destroy', 'retain'].includes(resolved.removalPolicy), `removalPolicy must be destroy or retain, got ${JSON.stringify(resolved.removalPolicy)}`);
  problems.check(positiveInteger(resolved.rawInfrequentAccessAfterDays) && resolved.rawInfrequentAccessAfterDays >= 30, 'rawInfrequentAccessAfterDays must be ≥ 30 (S3 Standard-IA minimum)');
  problems.check(
    positiveInteger(resolved.rawGlacierAfterDays) && resolved.rawGlacierAfterDays >= resolved.rawInfrequentAccessAfterDays + 30,
    'rawGlacierAfterDays must be at least 30 days after rawInfrequentAccessAfterDays (S3 bills Standard-IA for 30 days minimum)',
  );
  for (const name of ['quarantineExpiryDays', 'predictionsExpiryDays', 'logRetentionDays', 'latencyP95AlarmMs', 'athenaBytesScannedCutoffGib'] as const) {
    problems.check(positiveInteger(resolved[name]), `${name} must be a positive integer, got ${resolved[name]}`);
  }
  problems.check(resolved.errorRateAlarmThreshold > 0 && resolved.errorRateAlarmThreshold < 1, 'errorRateAlarmThreshold must be between 0 and 1');
  problems.check(resolved.driftAlarmThreshold > 0, 'driftAlarmThreshold must be positive');
  problems.check(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(resolved.apiNamespace), `apiNamespace must be a DNS label, got ${JSON.stringify(resolved.apiNamespace)}`);
  problems.check(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(resolved.apiServiceAccount), `apiServiceAccount must be a DNS label, got ${JSON.stringify(resolved.apiServiceAccount)}`);
  if (props.pipelineOidc) {
    problems.check(/^https:\/\/[^\s/]+(\/\S*)?$/.test(props.pipelineOidc.issuerUrl), `pipelineOidc.issuerUrl must be an https URL, got ${JSON.stringify(props.pipelineOidc.issuerUrl)}`);
    problems.check(props.pipelineOidc.audience?.length > 0, 'pipelineOidc.audience must be non-empty');
    problems.check(props.pipelineOidc.subjects?.length > 0 && props.pipelineOidc.subjects.every((subject) => subject !== '*'), 'pipelineOidc.subjects must list subjects, and not the bare wildcard *');
  }
  problems.throwIfAny();
  return resolved;
}

/**
 * The CI system's OIDC trust (a placeholder like the accounts: Jenkins with the OpenID Connect
 * Provider plugin issues tokens from its own URL; Azure Pipelines and GitHub Actions do likewise).
 * Only the pipeline's own jobs on the given branch may assume the role.
 */
function pipelineTrust(branch: string): PipelineOidcTrust {
  return {
    issuerUrl: 'https://jenkins.retail.example.com/oidc',
    audience: 'sts.amazonaws.com',
    subjects: [`https://jenkins.retail.example.com/job/retail-mlops/job/${branch}/*`],
  };
}

/**
 * The template's environments. dev is small and disposable; staging has production's shape at a
 * smaller size; production spreads over three zones, keeps its data, and alarms by e-mail.
 */
export const ENVIRONMENTS: { readonly [E in AwsEnvironmentName]: RetailMlopsEnvironmentProps } = {
  dev: {
    environment: 'dev',
    account: '111111111111',
    region: 'eu-west-1',
    maxAzs: 2,
    natGateways: 1,
    onDemandNodes: { instanceTypes: ['t3.large'], minSize: 1, desiredSize: 1, maxSize: 2 },
    spotNodes: { instanceTypes: ['m5.large', 'm5a.large', 'm6i.large'], minSize: 0, desiredSize: 1, maxSize: 3 },
    monthlyBudgetUsd: 500,
    removalPolicy: 'destroy',
    quarantineExpiryDays: 30,
    predictionsExpiryDays: 90,
    logRetentionDays: 30,
    athenaBytesScannedCutoffGib: 10,
    pipelineOidc: pipelineTrust('main'),
  },
  staging: {
    environment: 'staging',
    account: '222222222222',
    region: 'eu-west-1',
    maxAzs: 2,
    natGateways: 1,
    onDemandNodes: { instanceTypes: ['c6i.large'], minSize: 2, desiredSize: 2, maxSize: 3 },
    spotNodes: { instanceTypes: ['c6i.large', 'c5.large', 'c5a.large', 'm6i.large'], minSize: 0, desiredSize: 1, maxSize: 4 },
    monthlyBudgetUsd: 500,
    removalPolicy: 'destroy',
    pipelineOidc: pipelineTrust('main'),
  },
  // ≤ $500/month at on-demand prices (providers/aws/README.md has the arithmetic and what each saving costs):
  // two zones, one NAT gateway, three interface endpoints, a two-node on-demand floor plus one spot node
  production: {
    environment: 'production',
    account: '333333333333',
    region: 'eu-west-1',
    maxAzs: 2,
    natGateways: 1,
    onDemandNodes: { instanceTypes: ['c6i.large'], minSize: 2, desiredSize: 2, maxSize: 4 },
    spotNodes: { instanceTypes: ['c6i.large', 'c5.large', 'c5a.large', 'm6i.large'], minSize: 1, desiredSize: 1, maxSize: 6 },
    monthlyBudgetUsd: 500,
    removalPolicy: 'retain',
    logRetentionDays: 90,
    athenaBytesScannedCutoffGib: 100,
    pipelineOidc: { ...pipelineTrust('release'), createProvider: true },
  },
};
