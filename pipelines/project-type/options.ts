/**
 * The options of `RetailMlopsProject`: what a team sets in its `.projenrc.ts`. jsii-compatible (the
 * `projen new --from retail-mlops` wizard reads them from the package's `.jsii` assembly): readonly
 * structs and enums, no unions, no functions; every optional option documents its default.
 */
import type { typescript } from 'projen';

/** Where an environment's lake, registry and training live (`projen new --from retail-mlops --cloud aws`). */
export enum Cloud {
  /** The embedded local default: folders for the lake and registry, training in-process. */
  LOCAL = 'local',
  /** Amazon Web Services: S3, SageMaker, EKS. */
  AWS = 'aws',
  /** Microsoft Azure: Blob Storage, Azure ML, AKS. */
  AZURE = 'azure',
}

/** A CI system the pipeline is rendered for. */
export enum CiSystem {
  /** A declarative `Jenkinsfile` (multibranch pipeline). */
  JENKINS = 'jenkins',
  /** `.travis.yml` (build stages). */
  TRAVIS = 'travis',
  /** `azure-pipelines.yml` (stages, deployment jobs, workload identity federation). */
  AZURE_PIPELINES = 'azure-pipelines',
}

/** The model gate: the floor every candidate must reach, and how far it may trail the champion. */
export interface GateFloor {
  /** Lowest accepted accuracy on the held-out weeks. @default 0.75 */
  readonly minimumAccuracy?: number;
  /** Lowest accepted macro-F1 on the held-out weeks. @default 0.7 */
  readonly minimumMacroF1?: number;
  /** Lowest accepted precision of every class. @default 0.65 */
  readonly minimumClassPrecision?: number;
  /** How far the candidate's accuracy may fall below the champion's. @default 0.01 */
  readonly championAccuracyTolerance?: number;
  /** How far the candidate's macro-F1 may fall below the champion's. @default 0.01 */
  readonly championMacroF1Tolerance?: number;
}

/** AWS settings of an environment: what an `s3://` location cannot say. */
export interface AwsEnvironmentOptions {
  /** The 12-digit account the environment's stack is deployed to (infrastructure). @default '111111111111' (a placeholder) */
  readonly account?: string;
  /** @default 'eu-west-1' */
  readonly region?: string;
  /** KMS key for objects, training volumes and outputs. @default - the bucket's default encryption */
  readonly kmsKeyId?: string;
  /** The SageMaker execution role training jobs run as. @default `arn:aws:iam::<account>:role/<project>-<environment>-sagemaker` */
  readonly roleArn?: string;
  /** The SageMaker Model Package Group versions are mirrored into. @default 'retail-mlops' */
  readonly modelPackageGroupName?: string;
  /** Private subnets of training jobs. @default - no VPC configuration */
  readonly subnetIds?: string[];
  /** Security groups of training jobs. @default - none */
  readonly securityGroupIds?: string[];
  /** Training instance type. @default 'ml.m5.xlarge' */
  readonly instanceType?: string;
  /** Train on managed spot capacity. @default true */
  readonly spot?: boolean;
  /** The project's image in ECR (own trainers on SageMaker, model packages). @default - none */
  readonly image?: string;
  /** The IAM role CI assumes through OIDC for this environment's stages. @default `arn:aws:iam::<account>:role/<project>-<environment>-pipeline` */
  readonly pipelineRoleArn?: string;
  /** The API pods' IAM role (IRSA). @default `arn:aws:iam::<account>:role/<project>-api-<environment>` */
  readonly apiRoleArn?: string;
}

/** Azure settings of an environment: what a Blob location cannot say. */
export interface AzureEnvironmentOptions {
  /** @default '00000000-0000-0000-0000-000000000000' (a placeholder) */
  readonly subscriptionId?: string;
  /** Entra ID tenant of the identities. @default '00000000-0000-0000-0000-000000000000' (a placeholder) */
  readonly tenantId?: string;
  /** @default `rg-<project>-<environment>` */
  readonly resourceGroup?: string;
  /** The Azure ML workspace. @default `mlw-<project>-<environment>` */
  readonly workspace?: string;
  /** The AmlCompute cluster training jobs run on. @default 'cpu-cluster' */
  readonly compute?: string;
  /** The project's image in ACR training jobs run in. @default - none */
  readonly image?: string;
  /** The Azure DevOps service connection (workload identity federation) cloud stages use. @default '<project>-<environment>' */
  readonly serviceConnection?: string;
  /** Client id of the pipeline's federated identity. @default '00000000-0000-0000-0000-000000000000' (a placeholder) */
  readonly pipelineClientId?: string;
  /** Client id of the API pods' managed identity (workload identity). @default '00000000-0000-0000-0000-000000000000' (a placeholder) */
  readonly apiClientId?: string;
  /** The Key Vault certificate the ingress serves HTTPS with. @default `https://kv<project><environment>.vault.azure.net/certificates/predict-<environment>` */
  readonly keyVaultCertificateUri?: string;
}

/** How the prediction API runs in an environment (EKS or AKS, synced by Argo CD). */
export interface ApiDeploymentOptions {
  /** The host name the API answers on. @default `predict.<environment>.example.com` (a placeholder) */
  readonly host?: string;
  /** The image tag to run. @default '0.1.0' */
  readonly imageTag?: string;
  /** @default - per environment (dev 1, staging 2, production 3) */
  readonly minReplicas?: number;
  /** @default - per environment (dev 2, staging 4, production 10) */
  readonly maxReplicas?: number;
  /** @default - per environment (dev 250, staging 500, production 1000) */
  readonly cpuRequestMillicores?: number;
  /** @default - per environment (1000, 1000, 2000) */
  readonly cpuLimitMillicores?: number;
  /** @default - per environment (256, 512, 1024) */
  readonly memoryRequestMebibytes?: number;
  /** @default - per environment (512, 1024, 2048) */
  readonly memoryLimitMebibytes?: number;
}

/** One environment of `.retail-mlops.json`. */
export interface EnvironmentOptions {
  /** `local`, `dev`, `staging`, `production` or another lowercase name. */
  readonly name: string;
  /** @default - `local` for the environment named local, the project's cloud for the others */
  readonly provider?: Cloud;
  /** The lake: a folder, `s3://bucket/prefix` or `https://<account>.blob.core.windows.net/<container>/<prefix>`. @default - per provider, from the project's name */
  readonly lake?: string;
  /** The model registry, in the same forms. @default - beside the lake */
  readonly registry?: string;
  /** Where new raw LGSR files arrive for the pipeline. @default - `<lake>/landing` */
  readonly landing?: string;
  /** The share of rows data validation may quarantine before the pipeline fails (0–1). @default 0.01 */
  readonly maxQuarantineRate?: number;
  /** `in-process`, `sagemaker` or `azureml`. @default - the provider's */
  readonly backend?: string;
  /** @default - placeholders derived from the project's name */
  readonly aws?: AwsEnvironmentOptions;
  /** @default - placeholders derived from the project's name */
  readonly azure?: AzureEnvironmentOptions;
  /** The prediction API in this environment (dev, staging and production on a cloud). @default - placeholders */
  readonly api?: ApiDeploymentOptions;
}

/** A stage the team adds to the pipeline; it appears in every CI file and in `retail-mlops pipeline run`. */
export interface PipelineStageOptions {
  /** `[a-z][a-z0-9-]*`, unique. */
  readonly id: string;
  /** Display name, unique. */
  readonly name: string;
  /** Shell commands, run in order from the repository root. */
  readonly commands: string[];
  /** Insert after the stage with this id. @default - appended at the end */
  readonly after?: string;
  /** @default - every branch */
  readonly branches?: string[];
  /** The stage runs with the pipeline environment's cloud identity. @default false */
  readonly needsCloud?: boolean;
}

/** Options of a retail-mlops team repository (and of the template itself). */
export interface RetailMlopsProjectOptions extends typescript.TypeScriptProjectOptions {
  /**
   * Where lake, registry, training and the API run (`projen new --from retail-mlops --cloud aws`).
   * @default Cloud.LOCAL
   */
  readonly cloud?: Cloud;
  /**
   * The CI systems the pipeline is rendered for.
   * @default [CiSystem.JENKINS, CiSystem.TRAVIS, CiSystem.AZURE_PIPELINES]
   */
  readonly ciSystems?: CiSystem[];
  /**
   * The environments of `.retail-mlops.json`. On a cloud, `dev`, `staging` and `production` are the
   * deployment environments (their `api` is rendered into `manifests/`).
   * @default - `local`, plus `dev`, `staging`, `production` on the cloud with placeholder settings
   */
  readonly environments?: EnvironmentOptions[];
  /** The environment commands use when none is named. @default 'local' */
  readonly defaultEnvironment?: string;
  /** The environment the CI pipeline ingests, trains and registers in. @default - 'dev' on a cloud, 'local' otherwise */
  readonly pipelineEnvironment?: string;
  /** The model gate. @default - accuracy 0.75, macro-F1 0.7, class precision 0.65, tolerances 0.01 */
  readonly gate?: GateFloor;
  /** Algorithms the pipeline trains (`lr`, `dt`, `rf`, `gbdt`; the champion is the best). @default - all */
  readonly algorithms?: string[];
  /** Stages added to the standard pipeline. @default [] */
  readonly extraStages?: PipelineStageOptions[];
  /** LGSR files (globs relative to the repository root) the pipeline ingests. @default - the environment's landing location */
  readonly pipelineDataFiles?: string[];
  /** Commands the test stage runs before `npm test` (the set-up script README uses). @default [] */
  readonly testSetupCommands?: string[];
  /** Commands the data stage runs before it ingests, in the same job (e.g. landing data in the landing location). @default [] */
  readonly dataSetupCommands?: string[];
  /** Who approves the promotion to production. @default 'release-approvers' */
  readonly approvalGroup?: string;
  /** The API image's repository. @default `example-org/<project>-api` (a placeholder) */
  readonly imageRepository?: string;
  /** The repository Argo CD syncs the manifests from. @default `https://github.com/example-org/<project>.git` (a placeholder) */
  readonly gitRepositoryUrl?: string;
}
