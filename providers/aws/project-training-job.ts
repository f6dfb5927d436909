/**
 * A SageMaker training job that runs the project's own trainer in the project's container image
 * (the API image): `retail-mlops train-job` on SageMaker's file layout.
 *
 * ```
 * /opt/ml/input/data/job/job.json     channel `job`: the TrainingJob document
 * /opt/ml/input/data/lake/…           channel `lake`: exactly the files of the job's lake version
 *                                     (an S3 ManifestFile listing them, plus the lake manifest)
 * /opt/ml/model/                      model.onnx + trained-model.json; SageMaker uploads the folder
 *                                     as <S3OutputPath><job>/output/model.tar.gz
 * ```
 */

/**
 * How the project's image runs its CLI: its ENTRYPOINT is `node lib/bin/retail-mlops.js` in `/app`
 * (pipelines/container-image.ts); SageMaker's `ContainerEntrypoint` takes it as absolute words.
 */
export const PROJECT_IMAGE_ENTRYPOINT: readonly string[] = ['node', '/app/lib/bin/retail-mlops.js'];

/** SageMaker's paths inside a training container. */
export const SAGEMAKER_CHANNELS_PATH = '/opt/ml/input/data';
export const SAGEMAKER_MODEL_PATH = '/opt/ml/model';

/** The channel names of a project training job. */
export const JOB_CHANNEL = 'job';
export const LAKE_CHANNEL = 'lake';
/** The job document's file name in its channel. */
export const JOB_DOCUMENT_FILE = 'job.json';

/** The container's arguments: `train-job` on the channels, writing the model folder. */
export function projectTrainingArguments(): string[] {
  return [
    'train-job',
    '--job', `${SAGEMAKER_CHANNELS_PATH}/${JOB_CHANNEL}/${JOB_DOCUMENT_FILE}`,
    '--lake', `${SAGEMAKER_CHANNELS_PATH}/${LAKE_CHANNEL}`,
    '--out', SAGEMAKER_MODEL_PATH,
  ];
}

/**
 * A SageMaker manifest file: the common prefix first, then each object's path below it. SageMaker
 * downloads each object to the channel's directory under that relative path.
 */
export function sageMakerManifest(prefixUri: string, relativePaths: readonly string[]): string {
  return `${JSON.stringify([{ prefix: prefixUri.endsWith('/') ? prefixUri : `${prefixUri}/` }, ...relativePaths])}\n`;
}
