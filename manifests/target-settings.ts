/**
 * Deployment targets as data: what a team repository's `.projenrc.ts` declares (hosts, image, identities,
 * each environment's registry on its cloud) rendered into `manifests/deployment-targets.json`, so that
 * `npx projen`, `promote` and `rollback` render the same manifests from the same file. The chart props
 * pass through as they are: each chart validates its own (every problem at once).
 *
 * ```json
 * { "cloud": "eks", "gitRepositoryUrl": "https://…/team.git",
 *   "environments": { "dev": { "registry": "s3://…/registry", "host": "…", "imageRepository": "…", "imageTag": "…",
 *                              "iamRoleArn": "arn:aws:iam::…:role/…" }, "staging": { … }, "production": { … } } }
 * ```
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { AksApiChartProps } from './aks-api-chart';
import type { ArgoCdApplicationChartProps } from './argo-cd-application-chart';
import type { DeploymentTargets } from './deployment-targets';
import type { EksApiChartProps } from './eks-api-chart';
import { environments, isCloud, type Cloud, type Environment } from './environments';
import { InputError, InvalidOptionsError } from '../core/errors';

/** The file beside `pins.json` that holds a repository's deployment targets. */
export const DEPLOYMENT_TARGETS_FILE = 'deployment-targets.json';

/** One environment's chart props, without what the pins and the environment name supply; `registry` is the environment's registry on the cloud. */
export type EnvironmentTargetSettings =
  & { readonly registry: string }
  & Omit<EksApiChartProps, 'environment' | 'modelPin' | 'iamRoleArn' | 'loadBalancerScheme'>
  & Partial<Pick<EksApiChartProps, 'iamRoleArn' | 'loadBalancerScheme'>>
  & Partial<Omit<AksApiChartProps, keyof EksApiChartProps | 'environment' | 'modelPin'>>;

/** The whole `deployment-targets.json`. */
export interface DeploymentTargetSettings {
  /** The one cloud a team repository renders. */
  readonly cloud: Cloud;
  /** The repository Argo CD syncs from. */
  readonly gitRepositoryUrl: string;
  /** @default 'main' */
  readonly gitRevision?: string;
  readonly environments: { readonly [E in Environment]: EnvironmentTargetSettings };
  /** Argo CD Application props per environment, beyond the repository. @default {} */
  readonly argoCd?: Partial<Omit<ArgoCdApplicationChartProps, 'cloud' | 'environment' | 'gitRepositoryUrl'>>;
}

/**
 * The deployment targets the settings describe. Shape problems are reported here (all at once); the
 * charts check the values when they are built.
 * @throws InvalidOptionsError
 */
export function deploymentTargetsFromSettings(settings: DeploymentTargetSettings, source = DEPLOYMENT_TARGETS_FILE): DeploymentTargets {
  const problems: string[] = [];
  if (!isCloud(settings?.cloud)) problems.push(`cloud must be eks or aks, got ${JSON.stringify(settings?.cloud)}`);
  if (typeof settings?.gitRepositoryUrl !== 'string' || settings.gitRepositoryUrl.length === 0) problems.push('gitRepositoryUrl must name the repository Argo CD syncs');
  for (const environment of environments) {
    const target = settings?.environments?.[environment];
    if (typeof target !== 'object' || target === null) problems.push(`environments.${environment} is missing`);
    else if (typeof target.registry !== 'string') problems.push(`environments.${environment}.registry must be the environment's registry location`);
  }
  if (problems.length > 0) throw new InvalidOptionsError(source, problems);
  const chartProps = (environment: Environment, model: string) => {
    const { registry, ...props } = settings.environments[environment];
    return { ...props, environment, modelPin: { registry, model } };
  };
  return {
    clouds: [settings.cloud],
    eks: (environment, pin) => chartProps(environment, pin.model) as EksApiChartProps,
    aks: (environment, pin) => chartProps(environment, pin.model) as AksApiChartProps,
    argoCd: (cloud, environment) => ({ ...settings.argoCd, cloud, environment, gitRepositoryUrl: settings.gitRepositoryUrl, gitRevision: settings.gitRevision }),
  };
}

/** Reads `deployment-targets.json` from `manifestsDirectory`, or undefined when there is none. */
export function readDeploymentTargets(manifestsDirectory: string): DeploymentTargets | undefined {
  const file = path.join(manifestsDirectory, DEPLOYMENT_TARGETS_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new InputError(`cannot read ${file}: ${(error as Error).message}`, { cause: error });
  }
  let settings: DeploymentTargetSettings;
  try {
    settings = JSON.parse(text) as DeploymentTargetSettings;
  } catch (error) {
    throw new InputError(`${file} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  return deploymentTargetsFromSettings(settings, file);
}
