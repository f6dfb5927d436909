/**
 * What the EKS cluster needs before the first promotion can run, installed by the stack itself:
 *
 * - the AWS Load Balancer Controller (aws-eks-v2's `albController`: Helm chart pinned by version, its
 *   IAM policy, IRSA), which turns the API chart's Ingress into an ALB;
 * - Argo CD (the argo-cd Helm chart, pinned), the GitOps controller that syncs `manifests/dist/eks/<env>`;
 * - the Argo CD Application of the environment, pointing at the team's repository (the same object
 *   `manifests/dist/eks/argocd/` renders: one definition, manifests/argo-cd-application-chart.ts);
 * - the Amazon CloudWatch Observability add-on (Container Insights metrics and container logs), whose
 *   agent runs under its own IRSA role.
 *
 * Helm and kubectl run in aws-eks-v2's kubectl provider (a Lambda function in the private subnets, with
 * kubectl and helm from the `@aws-cdk/lambda-layer-kubectl-v33` npm package): the cluster's endpoint
 * stays private.
 */
import { CfnJson, Validations, type CfnResource } from 'aws-cdk-lib';
import type * as eks from 'aws-cdk-lib/aws-eks-v2';
import { Addon } from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { argoCdApplicationObject, type ArgoCdApplicationChartProps } from '../../../manifests/argo-cd-application-chart';

/** The argo-cd chart of https://argoproj.github.io/argo-helm (7.7.17 = Argo CD v2.13.4). */
export const ARGO_CD_CHART = { repository: 'https://argoproj.github.io/argo-helm', chart: 'argo-cd', version: '7.7.17', namespace: 'argocd' } as const;

/** The EKS add-on that installs the CloudWatch agent and Fluent Bit (Container Insights). */
export const CLOUDWATCH_OBSERVABILITY_ADDON = 'amazon-cloudwatch-observability';
/** The add-on's agent service account (namespace amazon-cloudwatch). */
const CLOUDWATCH_AGENT_SERVICE_ACCOUNT = 'system:serviceaccount:amazon-cloudwatch:cloudwatch-agent';

export interface ClusterBootstrapProps {
  readonly cluster: eks.Cluster;
  /** The Application Argo CD starts with (cloud `eks`, the environment, the team's repository). */
  readonly application: ArgoCdApplicationChartProps;
  /**
   * The add-on's version, e.g. `v4.1.0-eksbuild.1`.
   * @default - the version EKS installs by default for the cluster's Kubernetes version
   */
  readonly cloudWatchAddonVersion?: string;
}

export class ClusterBootstrap extends Construct {
  readonly argoCd: eks.HelmChart;
  readonly applications: eks.KubernetesManifest;
  readonly cloudWatchObservability: Addon;
  readonly cloudWatchAgentRole: iam.Role;

  constructor(scope: Construct, id: string, props: ClusterBootstrapProps) {
    super(scope, id);
    const { cluster } = props;

    this.argoCd = cluster.addHelmChart('ArgoCd', {
      chart: ARGO_CD_CHART.chart,
      repository: ARGO_CD_CHART.repository,
      version: ARGO_CD_CHART.version,
      release: 'argo-cd',
      namespace: ARGO_CD_CHART.namespace,
      createNamespace: true,
      wait: true,
      values: {
        // no SSO broker and no notifications controller: people reach Argo CD with kubectl port-forward
        // through the cluster's private endpoint (IAM access entries); the server stays a ClusterIP
        dex: { enabled: false },
        notifications: { enabled: false },
        server: { service: { type: 'ClusterIP' } },
        configs: { params: { 'application.namespaces': ARGO_CD_CHART.namespace } },
        global: { nodeSelector: { 'retail-mlops/capacity': 'on-demand' } },
      },
    });

    // the Application needs Argo CD's CRDs: applied after the chart
    this.applications = cluster.addManifest('ArgoCdApplications', argoCdApplicationObject(props.application));
    this.applications.node.addDependency(this.argoCd);

    // Container Insights: the agent's own role (IRSA), trusted by its service account only
    const issuer = cluster.openIdConnectProvider;
    const conditions = new CfnJson(this, 'CloudWatchAgentCondition', {
      value: {
        [`${issuer.openIdConnectProviderIssuer}:sub`]: CLOUDWATCH_AGENT_SERVICE_ACCOUNT,
        [`${issuer.openIdConnectProviderIssuer}:aud`]: 'sts.amazonaws.com',
      },
    });
    this.cloudWatchAgentRole = new iam.Role(this, 'CloudWatchAgentRole', {
      description: 'Container Insights agent and Fluent Bit of the amazon-cloudwatch-observability add-on (IRSA)',
      assumedBy: new iam.OpenIdConnectPrincipal(issuer).withConditions({ StringEquals: conditions }),
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('CloudWatchAgentServerPolicy')],
    });
    Validations.of(this.cloudWatchAgentRole).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/CloudWatchAgentServerPolicy]',
      reason: 'The CloudWatch agent\'s documented policy (metrics, its log groups, EC2 tags for dimensions); AWS keeps it in step with the agent.',
    });
    this.cloudWatchObservability = new Addon(this, 'CloudWatchObservability', {
      cluster,
      addonName: CLOUDWATCH_OBSERVABILITY_ADDON,
      addonVersion: props.cloudWatchAddonVersion,
    });
    // aws-eks-v2's Addon has no service-account role prop: set it on the underlying CfnAddon
    (this.cloudWatchObservability.node.defaultChild as CfnResource).addPropertyOverride('ServiceAccountRoleArn', this.cloudWatchAgentRole.roleArn);
  }
}
