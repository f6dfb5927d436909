/**
 * The two deploy targets of an AWS environment, in the synthesized templates (cdk-nag included):
 * `eks` bootstraps the cluster (AWS Load Balancer Controller, Argo CD pinned by chart version, the
 * environment's Argo CD Application, the CloudWatch observability add-on); `sagemaker` runs the API
 * image on a real-time endpoint with blue/green updates and target-tracking autoscaling, and no cluster.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reportedViolations, synthesizeAll } from './synthesis';
import { seededContext } from '../../../../providers/aws/infra/app';
import { ARGO_CD_CHART, CLOUDWATCH_OBSERVABILITY_ADDON } from '../../../../providers/aws/infra/cluster-bootstrap';
import { ENVIRONMENTS } from '../../../../providers/aws/infra/environments';
import { RetailMlopsStack, committedModelPins } from '../../../../providers/aws/infra/retail-mlops-stack';
import { temporaryDirectory } from '../../../helpers/paths';

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown>; DependsOn?: string[] }>;
const DIGEST = `sha256:${'c4'.repeat(32)}`;
const scratch = temporaryDirectory('infra-targets-');
afterAll(() => scratch.remove());

describe('deployTarget eks: the cluster bootstrap', () => {
  let template: Template;
  let resources: Resources;
  beforeAll(() => {
    const synthesized = synthesizeAll(path.join(scratch.path, 'eks'), ['dev']);
    template = synthesized.template('dev');
    resources = synthesized.json('dev').Resources as Resources;
  });

  it('installs Argo CD from its Helm chart, pinned by version, into argocd', () => {
    template.hasResourceProperties('Custom::AWSCDK-EKS-HelmChart', {
      Chart: ARGO_CD_CHART.chart,
      Repository: ARGO_CD_CHART.repository,
      Version: ARGO_CD_CHART.version,
      Namespace: 'argocd',
      CreateNamespace: true,
    });
    expect(ARGO_CD_CHART.version).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('installs the AWS Load Balancer Controller (the Ingress → ALB), pinned, with its own IRSA role', () => {
    const charts = Object.values(resources).filter((resource) => resource.Type === 'Custom::AWSCDK-EKS-HelmChart').map((resource) => resource.Properties!);
    const controller = charts.find((chart) => chart.Chart === 'aws-load-balancer-controller');
    expect(controller).toBeDefined();
    expect(controller!.Version).toMatch(/^v?\d+\.\d+\.\d+$/);
    expect(controller!.Namespace).toBe('kube-system');
  });

  it('applies the environment\'s Argo CD Application (the team\'s repository, manifests/dist/eks/dev) after Argo CD', () => {
    const [id, manifest] = Object.entries(resources).find(([, resource]) => resource.Type === 'Custom::AWSCDK-EKS-KubernetesResource' && JSON.stringify(resource.Properties?.Manifest).includes('argoproj.io'))!;
    const objects = JSON.parse(JSON.stringify(manifest.Properties?.Manifest).replace(/^"|"$/g, '').replace(/\\"/g, '"')) as Record<string, unknown>[];
    expect(objects).toHaveLength(1);
    const committed = readFileSync(path.resolve(__dirname, '../../../../manifests/dist/eks/argocd/retail-mlops-api-dev.k8s.yaml'), 'utf8');
    expect(objects[0]).toMatchObject({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', metadata: { name: 'retail-mlops-api-dev', namespace: 'argocd' } });
    const source = (objects[0].spec as { source: { repoURL: string; path: string } }).source;
    expect(source.path).toBe('manifests/dist/eks/dev');
    // the same Application the manifests render for kubectl apply
    expect(committed).toContain(`repoURL: ${source.repoURL}`);
    const argoChart = Object.entries(resources).find(([, resource]) => resource.Type === 'Custom::AWSCDK-EKS-HelmChart' && resource.Properties?.Chart === 'argo-cd')![0];
    expect(resources[id].DependsOn).toEqual(expect.arrayContaining([argoChart]));
  });

  it('adds the CloudWatch observability add-on with an agent role only its service account can assume', () => {
    template.hasResourceProperties('AWS::EKS::Addon', { AddonName: CLOUDWATCH_OBSERVABILITY_ADDON, ServiceAccountRoleArn: Match.objectLike({ 'Fn::GetAtt': Match.anyValue() }) });
    const condition = Object.entries(resources).find(([cfnId]) => cfnId.startsWith('ApiBootstrapCloudWatchAgentCondition'))![1];
    expect(JSON.stringify(condition.Properties?.Value)).toContain('system:serviceaccount:amazon-cloudwatch:cloudwatch-agent');
  });
});

describe('deployTarget sagemaker: a real-time endpoint instead of a cluster', () => {
  let template: Template;
  let outdir: string;
  beforeAll(() => {
    outdir = path.join(scratch.path, 'sagemaker');
    const app = new App({ context: seededContext(), outdir });
    const pins = committedModelPins();
    new RetailMlopsStack(app, 'RetailMlops-production', {
      ...ENVIRONMENTS.production,
      deployTarget: 'sagemaker',
      endpoint: { minInstances: 2, maxInstances: 6, invocationsPerInstanceTarget: 2500 },
      pins: { ...pins, production: { model: 'v-0d41c77e2a10', imageDigest: DIGEST } },
    });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    app.synth();
    template = Template.fromJSON(JSON.parse(readFileSync(path.join(outdir, 'RetailMlops-production.template.json'), 'utf8')) as Record<string, unknown>);
  });

  it('has no cluster, and cdk-nag finds nothing unacknowledged', () => {
    template.resourceCountIs('AWS::EKS::Cluster', 0);
    expect(reportedViolations(outdir)).toEqual([]);
  });

  it('runs the pinned image by digest with the SageMaker hosting contract and the pinned model version', () => {
    template.hasResourceProperties('AWS::SageMaker::Model', {
      PrimaryContainer: {
        Image: Match.objectLike({ 'Fn::Join': Match.arrayWith([Match.arrayWith([`@${DIGEST}`])]) }),
        Environment: { RETAIL_MLOPS_HOSTING: 'sagemaker', RETAIL_MLOPS_MODEL: 'v-0d41c77e2a10', RETAIL_MLOPS_REGISTRY: Match.anyValue() },
      },
      VpcConfig: Match.anyValue(),
    });
    template.hasResourceProperties('AWS::SageMaker::EndpointConfig', {
      ProductionVariants: [Match.objectLike({ VariantName: 'AllTraffic', InstanceType: 'ml.c6i.large', InitialInstanceCount: 2 })],
      KmsKeyId: Match.anyValue(),
    });
  });

  it('updates blue/green: a 10% canary, rolled back by SageMaker when an endpoint alarm fires', () => {
    template.hasResourceProperties('AWS::SageMaker::Endpoint', {
      EndpointName: 'retail-mlops-production',
      DeploymentConfig: {
        BlueGreenUpdatePolicy: Match.objectLike({ TrafficRoutingConfiguration: { Type: 'CANARY', CanarySize: { Type: 'CAPACITY_PERCENT', Value: 10 }, WaitIntervalInSeconds: 300 } }),
        AutoRollbackConfiguration: { Alarms: [{ AlarmName: 'retail-mlops-production-endpoint-5xx' }, { AlarmName: 'retail-mlops-production-endpoint-latency-p99' }] },
      },
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: 'retail-mlops-production-endpoint-5xx', MetricName: 'Invocation5XXErrors', Namespace: 'AWS/SageMaker' });
  });

  it('scales the variant on invocations per instance between the options\' min and max', () => {
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      ServiceNamespace: 'sagemaker',
      ResourceId: 'endpoint/retail-mlops-production/variant/AllTraffic',
      ScalableDimension: 'sagemaker:variant:DesiredInstanceCount',
      MinCapacity: 2,
      MaxCapacity: 6,
    });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({ TargetValue: 2500, PredefinedMetricSpecification: { PredefinedMetricType: 'SageMakerVariantInvocationsPerInstance' } }),
    });
  });

  it('lets the CI pipeline role roll the endpoint over (promote), passing the endpoint role to SageMaker only', () => {
    type Statement = { Sid?: string; Action: unknown; Resource: unknown; Condition?: unknown };
    type Resource = { Type: string; Properties: { PolicyDocument?: { Statement: Statement[] }; Roles?: unknown } };
    const policies = Object.values(template.toJSON().Resources as Record<string, Resource>)
      .filter((resource) => resource.Type === 'AWS::IAM::Policy' && JSON.stringify(resource.Properties.Roles).includes('PipelineRole'));
    const statements = policies.flatMap((policy) => policy.Properties.PolicyDocument!.Statement);
    const update = statements.find((statement) => statement.Sid === 'UpdateEndpoint')!;
    expect(update.Action).toEqual(['sagemaker:DescribeEndpoint', 'sagemaker:UpdateEndpoint']);
    expect(JSON.stringify(update.Resource)).toContain(':endpoint/retail-mlops-production');
    expect(statements.find((statement) => statement.Sid === 'PassEndpointRole')!.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } });
  });

  it('outputs the endpoint for promote, and creates none while no image digest is pinned (with a warning)', () => {
    const outputs = Object.keys(JSON.parse(readFileSync(path.join(outdir, 'RetailMlops-production.template.json'), 'utf8')).Outputs as object);
    expect(outputs).toEqual(expect.arrayContaining(['EndpointName', 'EndpointExecutionRoleArn', 'EndpointRollbackAlarms']));
    const app = new App({ context: seededContext(), outdir: path.join(scratch.path, 'no-digest') });
    const stack = new RetailMlopsStack(app, 'RetailMlops-staging', { ...ENVIRONMENTS.staging, deployTarget: 'sagemaker', pins: committedModelPins() });
    expect(stack.modelEndpoint).toBeUndefined();
    Template.fromStack(stack).resourceCountIs('AWS::SageMaker::Endpoint', 0);
    const warnings = app.synth().getStackArtifact(stack.artifactId).messages.filter((message) => message.level === 'warning').map((message) => String(message.entry.data));
    expect(warnings.join('\n')).toMatch(/pins no imageDigest for staging yet/);
  });
});
