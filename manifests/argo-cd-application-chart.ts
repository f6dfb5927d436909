/**
 * The Argo CD `Application` (argoproj.io/v1alpha1) of one environment: it syncs the rendered
 * manifests at `manifests/dist/<cloud>/<environment>` of this repository into the cluster.
 * dev and staging sync automatically (prune + self-heal: git is the truth, drift is undone);
 * production waits for a person to press sync after the promotion commit lands.
 *
 * The Applications are rendered beside the environments (`manifests/dist/<cloud>/argocd/`), not
 * inside the path they sync, and are applied once when a cluster is bootstrapped.
 */
import { ApiObject, App, Chart } from 'cdk8s';
import type { Construct } from 'constructs';
import { clouds, environmentDefaults, environments, isCloud, isEnvironment, type Cloud, type Environment } from './environments';
import { isDnsLabel, isDnsSubdomain, isGitRepositoryUrl } from './formats';
import { ProblemCollector } from '../core/errors';

/** Where the rendered manifests of one cloud and environment live, relative to the repository root. */
export function renderedManifestsPath(cloud: Cloud, environment: Environment): string {
  return `manifests/dist/${cloud}/${environment}`;
}

export interface ArgoCdApplicationChartProps {
  readonly cloud: Cloud;
  readonly environment: Environment;

  /** This repository, as Argo CD clones it: `https://github.com/<org>/retail-mlops.git` or `git@github.com:<org>/retail-mlops.git`. */
  readonly gitRepositoryUrl: string;

  /**
   * The branch (or tag) Argo CD follows.
   * @default 'main'
   */
  readonly gitRevision?: string;

  /**
   * The Application's name.
   * @default `retail-mlops-api-${environment}`
   */
  readonly applicationName?: string;

  /**
   * The namespace the manifests go to (the API chart's `namespace`).
   * @default `retail-mlops-${environment}`
   */
  readonly destinationNamespace?: string;

  /**
   * The cluster's API server as Argo CD knows it.
   * @default 'https://kubernetes.default.svc' (the cluster Argo CD runs in)
   */
  readonly destinationServer?: string;

  /**
   * The namespace Argo CD runs in (where Applications live).
   * @default 'argocd'
   */
  readonly argoCdNamespace?: string;

  /**
   * The Argo CD project.
   * @default 'default'
   */
  readonly project?: string;

  /**
   * Sync on every commit (with prune and self-heal) instead of by hand.
   * @default environmentDefaults[environment].automatedSync (dev, staging: true; production: false)
   */
  readonly automatedSync?: boolean;
}

export class ArgoCdApplicationChart extends Chart {
  /** The Application object (its `spec` is plain JSON: Argo CD's CRD is not in cdk8s-plus). */
  readonly application: ApiObject;

  /** Validates every prop (throwing one `InvalidOptionsError` that lists all problems), then builds the chart. */
  constructor(scope: Construct, id: string, props: ArgoCdApplicationChartProps) {
    const problems = new ProblemCollector('ArgoCdApplicationChart props');
    problems.check(isCloud(props.cloud), `cloud must be one of ${clouds.join(', ')}, got ${JSON.stringify(props.cloud)}`);
    problems.check(isEnvironment(props.environment), `environment must be one of ${environments.join(', ')}, got ${JSON.stringify(props.environment)}`);
    const environment: Environment = isEnvironment(props.environment) ? props.environment : 'production';
    problems.check(
      typeof props.gitRepositoryUrl === 'string' && isGitRepositoryUrl(props.gitRepositoryUrl),
      `gitRepositoryUrl must be an https://, ssh:// or git@ URL of this repository, got ${JSON.stringify(props.gitRepositoryUrl)}`,
    );
    const gitRevision = props.gitRevision ?? 'main';
    problems.check(/^[A-Za-z0-9][A-Za-z0-9._/-]*$/.test(gitRevision), `gitRevision must be a branch, tag or commit, got ${JSON.stringify(gitRevision)}`);
    const applicationName = props.applicationName ?? `retail-mlops-api-${environment}`;
    problems.check(isDnsSubdomain(applicationName), `applicationName must be a DNS name, got ${JSON.stringify(applicationName)}`);
    const destinationNamespace = props.destinationNamespace ?? `retail-mlops-${environment}`;
    problems.check(isDnsLabel(destinationNamespace), `destinationNamespace must be a DNS label, got ${JSON.stringify(destinationNamespace)}`);
    const destinationServer = props.destinationServer ?? 'https://kubernetes.default.svc';
    problems.check(/^https:\/\/\S+$/.test(destinationServer), `destinationServer must be an https:// URL, got ${JSON.stringify(destinationServer)}`);
    const argoCdNamespace = props.argoCdNamespace ?? 'argocd';
    problems.check(isDnsLabel(argoCdNamespace), `argoCdNamespace must be a DNS label, got ${JSON.stringify(argoCdNamespace)}`);
    const project = props.project ?? 'default';
    problems.check(isDnsSubdomain(project), `project must be a DNS name, got ${JSON.stringify(project)}`);
    problems.throwIfAny();

    super(scope, id, {
      disableResourceNameHashes: true,
      labels: { 'app.kubernetes.io/part-of': 'retail-mlops', 'app.kubernetes.io/managed-by': 'cdk8s', 'retail-mlops/environment': environment },
    });

    const automatedSync = props.automatedSync ?? environmentDefaults[environment].automatedSync;
    this.application = new ApiObject(this, 'Application', {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Application',
      metadata: { name: applicationName, namespace: argoCdNamespace },
      spec: {
        project,
        source: {
          repoURL: props.gitRepositoryUrl,
          targetRevision: gitRevision,
          path: renderedManifestsPath(props.cloud, environment),
          directory: { recurse: false },
        },
        destination: { server: destinationServer, namespace: destinationNamespace },
        syncPolicy: automatedSync
          ? {
            automated: { prune: true, selfHeal: true },
            syncOptions: ['PruneLast=true'],
            retry: { limit: 5, backoff: { duration: '10s', factor: 2, maxDuration: '5m' } },
          }
          : { syncOptions: ['PruneLast=true'] },
        revisionHistoryLimit: 10,
      },
    });
  }
}

/**
 * The Application as a plain Kubernetes object (what a cluster bootstrap applies: the EKS stack's
 * manifest, the AKS template's deployment script), validated like the chart.
 */
export function argoCdApplicationObject(props: ArgoCdApplicationChartProps): Record<string, unknown> {
  const chart = new ArgoCdApplicationChart(new App(), `retail-mlops-api-${props.environment}`, props);
  return chart.toJson()[0] as Record<string, unknown>;
}
