/**
 * The Azure ML command job of one TrainingJob: the project's container image (an Azure ML
 * environment over the image in ACR) runs `retail-mlops train-job` on an AmlCompute cluster, with
 * the lake as a downloaded `uri_folder` input, the job document as a `uri_file` input, and a
 * `uri_folder` output at a known datastore path the backend reads the model back from.
 */
import type { JobBase } from '@azure/arm-machinelearning' with { 'resolution-mode': 'import' };
import type { JobAssets } from './job-asset-repair';
import type { TrainingJob } from '../../core/training/port';

/**
 * How the project's image runs its CLI: its ENTRYPOINT is `node lib/bin/retail-mlops.js` in `/app`
 * (pipelines/container-image.ts). Azure ML runs a command job's command in its own shell, not
 * through the image's ENTRYPOINT, and the image has no `retail-mlops` on its PATH, so the command
 * names the script.
 */
export const IMAGE_CLI = 'node /app/lib/bin/retail-mlops.js';

/** The CLI arguments the container runs; `${{…}}` are filled in by Azure ML with the local paths. */
export const TRAIN_JOB_ARGUMENTS = 'train-job --job ${{inputs.job}} --lake ${{inputs.lake}} --out ${{outputs.model}}';

export interface CommandJobSettings {
  /** ARM id of the workspace. */
  readonly workspaceId: string;
  readonly computeName: string;
  readonly environmentName: string;
  readonly environmentVersion: string;
  readonly datastore: string;
  readonly experimentName: string;
  /** ISO 8601 duration, e.g. `PT2H`. */
  readonly timeout: string;
  readonly environmentVariables: Readonly<Record<string, string>>;
  /** How the image runs the CLI, e.g. IMAGE_CLI or `retail-mlops`. */
  readonly cli: string;
}

/** Where one job's files live in the datastore. */
export interface CommandJobPaths {
  /** The lake's folder in the datastore (no leading or trailing '/'; '' for the container's root). */
  readonly lake: string;
  /** The job document's path in the datastore. */
  readonly jobDocument: string;
  /** The output folder's path in the datastore (no trailing '/'). */
  readonly output: string;
}

/** `azureml://datastores/<datastore>/paths/<path>` */
export function datastoreUri(datastore: string, datastorePath: string): string {
  return `azureml://datastores/${datastore}/paths/${datastorePath}`;
}

/** The job body for `jobs.createOrUpdate`, and the bindings to restore if the serializer drops them. */
export function buildCommandJob(
  settings: CommandJobSettings,
  job: TrainingJob,
  paths: CommandJobPaths,
): { readonly body: JobBase; readonly assets: JobAssets } {
  const inputs = {
    lake: { jobInputType: 'uri_folder' as const, mode: 'Download' as const, uri: datastoreUri(settings.datastore, paths.lake === '' ? '' : `${paths.lake}/`), description: `lake version ${job.dataset.version}` },
    job: { jobInputType: 'uri_file' as const, mode: 'Download' as const, uri: datastoreUri(settings.datastore, paths.jobDocument), description: 'the TrainingJob document' },
  };
  const outputs = {
    model: { jobOutputType: 'uri_folder' as const, mode: 'Upload' as const, uri: datastoreUri(settings.datastore, `${paths.output}/`), description: 'model.onnx and trained-model.json' },
  };
  const body: JobBase = {
    properties: {
      jobType: 'Command',
      displayName: job.name,
      description: `retail-mlops training job ${job.name}: ${job.algorithm} on lake version ${job.dataset.version}`,
      experimentName: settings.experimentName,
      command: `${settings.cli} ${TRAIN_JOB_ARGUMENTS}`,
      environmentId: `${settings.workspaceId}/environments/${settings.environmentName}/versions/${settings.environmentVersion}`,
      computeId: `${settings.workspaceId}/computes/${settings.computeName}`,
      environmentVariables: { ...settings.environmentVariables },
      inputs,
      outputs,
      limits: { jobLimitsType: 'Command', timeout: settings.timeout },
      resources: { instanceCount: 1 },
      tags: {
        'retail-mlops.job': job.name,
        'retail-mlops.algorithm': job.algorithm,
        'retail-mlops.lake-version': String(job.dataset.version),
        'retail-mlops.feature-spec': `${job.featureSpec.version}:${job.featureSpec.hash.slice(0, 12)}`,
        'retail-mlops.seed': String(job.seed),
      },
      properties: {
        'retail-mlops.dataset': job.dataset.uri,
        'retail-mlops.specification-version': job.specificationVersion,
      },
    },
  };
  return { body, assets: { inputs, outputs } };
}
