/**
 * The prediction API on EKS: IRSA for the pods' AWS identity (the ServiceAccount carries the IAM
 * role ARN; the EKS pod identity webhook projects the token), and an internal Application Load
 * Balancer from the AWS Load Balancer Controller in IP mode (it sends straight to the pod IPs,
 * so the NetworkPolicy lets in the VPC ranges the ALB lives in).
 */
import type { Construct } from 'constructs';
import { ApiChart, type ResolvedApiChart } from './api-chart';
import { checkChartCloud, resolveApiChartProps, type ApiChartProps } from './api-chart-props';
import { isAcmCertificateArn, isIamRoleArn, isIpv4Cidr } from './formats';
import { ProblemCollector } from '../core/errors';

/** `10.0.0.0/16`: aws-cdk-lib's default VPC range, where the ALB and the S3/STS interface endpoints live. */
export const eksDefaultVpcCidrs: readonly string[] = ['10.0.0.0/16'];

export interface EksApiChartProps extends ApiChartProps {
  /** The IAM role the pods assume through IRSA (read access to the model registry bucket). */
  readonly iamRoleArn: string;

  /**
   * The ACM certificate for the ALB's HTTPS listener.
   * @default - the controller discovers a certificate for `host` in ACM
   */
  readonly certificateArn?: string;

  /**
   * `internal` (reachable inside the VPC and peered networks only) or `internet-facing`.
   * @default 'internal'
   */
  readonly loadBalancerScheme?: 'internal' | 'internet-facing';

  /**
   * The ALB's TLS policy.
   * @default 'ELBSecurityPolicy-TLS13-1-2-2021-06'
   */
  readonly sslPolicy?: string;

  /**
   * The ranges the ALB's requests come from (its subnets; in IP mode it connects to the pods directly).
   * @default eksDefaultVpcCidrs (`10.0.0.0/16`)
   */
  readonly loadBalancerSourceCidrs?: readonly string[];
}

export class EksApiChart extends ApiChart {
  /** Validates every prop (throwing one `InvalidOptionsError` that lists all problems), then builds the chart. */
  constructor(scope: Construct, id: string, props: EksApiChartProps) {
    super(scope, id, resolveEksApiChartProps(props));
  }
}

/** The props with defaults applied plus the EKS integration; throws `InvalidOptionsError` listing every problem. */
export function resolveEksApiChartProps(props: EksApiChartProps): ResolvedApiChart {
  const problems = new ProblemCollector('EksApiChart props');
  const settings = resolveApiChartProps(props, eksDefaultVpcCidrs, problems);
  checkChartCloud(props, { cluster: 'eks', provider: 'aws', locationForm: 'an s3://<bucket>/<prefix>', podIdentity: 'IRSA' }, problems);
  problems.check(
    typeof props.iamRoleArn === 'string' && isIamRoleArn(props.iamRoleArn),
    `iamRoleArn must be an IAM role ARN (arn:aws:iam::<account>:role/<name>), got ${JSON.stringify(props.iamRoleArn)}`,
  );
  if (props.certificateArn !== undefined) {
    problems.check(isAcmCertificateArn(props.certificateArn), `certificateArn must be an ACM certificate ARN, got ${JSON.stringify(props.certificateArn)}`);
  }
  const scheme = props.loadBalancerScheme ?? 'internal';
  problems.check(scheme === 'internal' || scheme === 'internet-facing', `loadBalancerScheme must be 'internal' or 'internet-facing', got ${JSON.stringify(scheme)}`);
  const sslPolicy = props.sslPolicy ?? 'ELBSecurityPolicy-TLS13-1-2-2021-06';
  problems.check(/^ELBSecurityPolicy-[A-Za-z0-9-]+$/.test(sslPolicy), `sslPolicy must name an ELB security policy, got ${JSON.stringify(sslPolicy)}`);
  const sourceCidrs = props.loadBalancerSourceCidrs ?? eksDefaultVpcCidrs;
  problems.check(sourceCidrs.length > 0, 'loadBalancerSourceCidrs must list at least one CIDR block (the ALB could not reach the pods)');
  for (const cidr of sourceCidrs) problems.check(isIpv4Cidr(cidr), `loadBalancerSourceCidrs: ${JSON.stringify(cidr)} is not an IPv4 CIDR block`);
  problems.throwIfAny();

  const ingressAnnotations: Record<string, string> = {
    'alb.ingress.kubernetes.io/scheme': scheme,
    'alb.ingress.kubernetes.io/target-type': 'ip',
    'alb.ingress.kubernetes.io/listen-ports': '[{"HTTPS":443}]',
    'alb.ingress.kubernetes.io/ssl-policy': sslPolicy,
    'alb.ingress.kubernetes.io/backend-protocol': 'HTTP',
    'alb.ingress.kubernetes.io/healthcheck-path': '/readyz',
    'alb.ingress.kubernetes.io/success-codes': '200',
    // the target drains as long as the server does after SIGTERM
    'alb.ingress.kubernetes.io/target-group-attributes': `deregistration_delay.timeout_seconds=${settings.terminationGracePeriodSeconds - settings.preStopSleepSeconds}`,
    'alb.ingress.kubernetes.io/load-balancer-attributes': 'routing.http.drop_invalid_header_fields.enabled=true',
  };
  if (props.certificateArn !== undefined) ingressAnnotations['alb.ingress.kubernetes.io/certificate-arn'] = props.certificateArn;

  return {
    settings,
    cloud: {
      provider: 'aws',
      serviceAccountAnnotations: {
        'eks.amazonaws.com/role-arn': props.iamRoleArn,
        // STS in the pod's own region (reached through the VPC's STS interface endpoint)
        'eks.amazonaws.com/sts-regional-endpoints': 'true',
      },
      podLabels: {},
      ingressClassName: 'alb',
      ingressAnnotations,
      ingressTls: [{ hosts: [settings.host] }],
      loadBalancerSources: sourceCidrs.map((cidr) => ({ ipBlock: { cidr } })),
    },
  };
}
