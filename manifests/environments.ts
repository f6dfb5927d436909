/**
 * The environments and clouds the manifests are rendered for, and what each environment gets by
 * default. A chart's props override any of these defaults one by one.
 */

/** The deployment environments, in promotion order. */
export const environments = ['dev', 'staging', 'production'] as const;
export type Environment = (typeof environments)[number];

/** The managed Kubernetes services the charts target. */
export const clouds = ['eks', 'aks'] as const;
export type Cloud = (typeof clouds)[number];

export function isEnvironment(value: unknown): value is Environment {
  return typeof value === 'string' && (environments as readonly string[]).includes(value);
}

export function isCloud(value: unknown): value is Cloud {
  return typeof value === 'string' && (clouds as readonly string[]).includes(value);
}

/** How hard the scheduler spreads the API's pods across zones. */
export type ZoneSpread =
  /** `whenUnsatisfiable: ScheduleAnyway`: prefer spreading, never block scheduling. */
  | 'preferred'
  /** `whenUnsatisfiable: DoNotSchedule`: a pod stays pending rather than skew the zones by more than one. */
  | 'required';

/** The per-environment defaults (every field can be overridden through the chart's props). */
export interface EnvironmentDefaults {
  readonly minReplicas: number;
  readonly maxReplicas: number;
  readonly cpuRequestMillicores: number;
  readonly cpuLimitMillicores: number;
  readonly memoryRequestMebibytes: number;
  readonly memoryLimitMebibytes: number;
  /** The PodDisruptionBudget: exactly one of `minAvailablePods` and `maxUnavailablePods`. */
  readonly minAvailablePods?: number;
  readonly maxUnavailablePods?: number;
  readonly zoneSpread: ZoneSpread;
  /** Argo CD syncs automatically (with prune and self-heal) or waits for a person to press sync. */
  readonly automatedSync: boolean;
}

/**
 * dev is small and cheap (one pod may be evicted at a time, so node drains never block);
 * staging mirrors production's shape at half the size; production keeps at least two pods
 * through voluntary disruptions and spreads strictly across zones, and syncs only by hand.
 */
export const environmentDefaults: { readonly [E in Environment]: EnvironmentDefaults } = {
  dev: {
    minReplicas: 1,
    maxReplicas: 2,
    cpuRequestMillicores: 250,
    cpuLimitMillicores: 1000,
    memoryRequestMebibytes: 256,
    memoryLimitMebibytes: 512,
    maxUnavailablePods: 1,
    zoneSpread: 'preferred',
    automatedSync: true,
  },
  staging: {
    minReplicas: 2,
    maxReplicas: 4,
    cpuRequestMillicores: 500,
    cpuLimitMillicores: 1000,
    memoryRequestMebibytes: 512,
    memoryLimitMebibytes: 1024,
    minAvailablePods: 1,
    zoneSpread: 'preferred',
    automatedSync: true,
  },
  production: {
    minReplicas: 3,
    maxReplicas: 10,
    cpuRequestMillicores: 1000,
    cpuLimitMillicores: 2000,
    memoryRequestMebibytes: 1024,
    memoryLimitMebibytes: 2048,
    minAvailablePods: 2,
    zoneSpread: 'required',
    automatedSync: false,
  },
};

/** Production never runs fewer pods than this, whatever the props say. */
export const productionMinimumReplicas = 3;
