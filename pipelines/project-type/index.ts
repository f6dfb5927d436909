/**
 * The package's main entry and jsii assembly: the projen project type `projen new --from retail-mlops`
 * creates a team repository from. Exports only. (The runtime API is under the package's other
 * entries: `retail-mlops/core`, `retail-mlops/server/client`, `retail-mlops/manifests`, …)
 */
export { Cloud, CiSystem } from './options';
export type {
  ApiDeploymentOptions,
  AwsEnvironmentOptions,
  AzureEnvironmentOptions,
  EnvironmentOptions,
  GateFloor,
  PipelineStageOptions,
  RetailMlopsProjectOptions,
} from './options';
export { RetailMlopsProject } from './retail-mlops-project';
