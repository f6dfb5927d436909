/**
 * What SageMaker does with a training job, done for real on this machine, for the two images the
 * aws provider uses:
 *
 * - SageMaker's built-in XGBoost 1.7-1 (`…/sagemaker-xgboost:1.7-1`): Debian's python3-xgboost (1.7)
 *   trains the way the container's algorithm mode does (sagemaker-xgboost-container v1.7-1-1,
 *   algorithm_mode/train.py and callback.py: watchlist train + validation, early stopping on the
 *   validation channel's last eval_metric with `save_best=True`, `bst.save_model('<model_dir>/xgboost-model')`,
 *   no extension, so XGBoost's legacy binary format);
 * - the project's own image (the one the emulator was told is "this install"): its
 *   `ContainerEntrypoint` (the image's CLI) becomes this install's own `retail-mlops`, run as a child
 *   process with the `/opt/ml` paths of its arguments mapped into a job folder.
 *
 * Either way: the channels are downloaded from S3 into `<job folder>/input/data/<channel>/` (S3Prefix:
 * every object under the prefix, at its path below it; ManifestFile: the listed objects, at their
 * listed paths), `input/config/hyperparameters.json` and `inputdataconfig.json` are written as
 * SageMaker writes them, and the model folder is packed (`tar czf`) and uploaded to
 * `<S3OutputPath><job name>/output/model.tar.gz`. Any other image fails the job, naming the images
 * the emulator runs.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import type { TrainingJobProgress, TrainingJobRunner } from './control-plane';
import type { S3Emulator } from './s3';
import { ownCliInvocation, runProcess, type Invocation } from '../../emulation/processes';
import { createS3ObjectStorage } from '../object-storage';
import { PROJECT_IMAGE_ENTRYPOINT } from '../project-training-job';
import { XGBOOST_ALGORITHM_VERSION } from '../xgboost-image';

type Json = Record<string, unknown>;

interface ChannelRequest {
  readonly ChannelName: string;
  readonly ContentType?: string;
  readonly DataSource?: { readonly S3DataSource?: { readonly S3DataType: string; readonly S3Uri: string } };
}

/** The interpreter with Debian's python3-xgboost (the `python3` on PATH may be another one). */
const SYSTEM_PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

const XGBOOST_IMAGE_PATTERN = new RegExp(`/sagemaker-xgboost:${XGBOOST_ALGORITHM_VERSION.replace('.', '\\.')}$`);

/** The XGBoost container's algorithm mode, on the job folder given as argv[1]. */
const XGBOOST_ALGORITHM_SCRIPT = `
import glob, json, os, sys
import numpy as np
import xgboost as xgb

root = sys.argv[1]
hyperparameters = json.load(open(os.path.join(root, "input/config/hyperparameters.json")))
channels = json.load(open(os.path.join(root, "input/config/inputdataconfig.json")))
INTEGERS = {"num_round", "num_class", "max_depth", "max_bin", "seed", "early_stopping_rounds", "nthread"}
def typed(name, value):
    if name in INTEGERS:
        return int(value)
    try:
        return float(value)
    except ValueError:
        return value
params = {name: typed(name, value) for name, value in hyperparameters.items()}
num_round = params.pop("num_round")
early_stopping_rounds = params.pop("early_stopping_rounds", None)
params["nthread"] = 1

def load(name):
    directory = os.path.join(root, "input/data", name)
    files = sorted(f for f in glob.glob(os.path.join(directory, "**", "*"), recursive=True) if os.path.isfile(f))
    if channels[name].get("ContentType", "text/csv") == "text/csv":
        data = np.concatenate([np.loadtxt(f, delimiter=",", dtype=np.float32, ndmin=2) for f in files])
        return xgb.DMatrix(data[:, 1:], label=data[:, 0], nthread=1)
    return xgb.DMatrix(files[0] + "?format=libsvm", nthread=1)

train = load("train")
watchlist = [(train, "train")]
validation = None
if "validation" in channels:
    validation = load("validation")
    watchlist.append((validation, "validation"))
callbacks = []
metric = params.get("eval_metric")
if early_stopping_rounds and validation is not None and metric:
    callbacks.append(xgb.callback.EarlyStopping(rounds=early_stopping_rounds, data_name="validation",
                                                metric_name=metric.split(",")[-1], save_best=True))
booster = xgb.train(params, train, num_boost_round=num_round, evals=watchlist, callbacks=callbacks, verbose_eval=False)
os.makedirs(os.path.join(root, "model"), exist_ok=True)
booster.save_model(os.path.join(root, "model", "xgboost-model"))
`;

export interface TrainingRunnerOptions {
  /** Where the channels are read from and the model is written to. */
  readonly s3: S3Emulator;
  /**
   * The image URI the emulator treats as the project's own image (this install).
   * @default - none: only the built-in XGBoost runs
   */
  readonly projectImage?: string;
  /**
   * Where job folders go (each removed when its job ends).
   * @default - the OS temp directory
   */
  readonly workDirectory?: string;
  /** @default - silent */
  readonly log?: (line: string) => void;
}

function splitS3Uri(uri: string): { bucket: string; key: string } {
  const [bucket, ...rest] = uri.replace(/^s3:\/\//, '').split('/');
  return { bucket, key: rest.join('/') };
}

/** A relative path that stays inside its folder. */
function safeRelative(relative: string): string {
  const normalized = path.posix.normalize(relative.replace(/^\/+/, ''));
  if (normalized === '' || normalized === '.' || normalized.startsWith('..')) throw new Error(`the object path '${relative}' leaves its channel`);
  return normalized;
}

/** Downloads every channel into `<root>/input/data/<channel>/` and writes SageMaker's config files. */
async function prepareJobFolder(request: Json, root: string, s3: S3Emulator): Promise<void> {
  const channels = (request.InputDataConfig as ChannelRequest[] | undefined) ?? [];
  const storeAt = (bucket: string) => createS3ObjectStorage({ ...s3.connection, bucket });
  for (const channel of channels) {
    const source = channel.DataSource?.S3DataSource;
    if (!source) throw new Error(`channel ${channel.ChannelName} has no S3DataSource (the emulator reads S3 channels only)`);
    const directory = path.join(root, 'input', 'data', channel.ChannelName);
    await mkdir(directory, { recursive: true });
    const { bucket, key } = splitS3Uri(source.S3Uri);
    const store = storeAt(bucket);
    if (source.S3DataType === 'S3Prefix') {
      const objects = await store.list(key);
      if (objects.length === 0) throw new Error(`ClientError: no objects under ${source.S3Uri} (channel ${channel.ChannelName})`);
      const base = key.endsWith('/') || key === '' ? key : key.slice(0, key.lastIndexOf('/') + 1);
      for (const object of objects) await store.download(object.key, path.join(directory, safeRelative(object.key.slice(base.length))));
    } else if (source.S3DataType === 'ManifestFile') {
      const manifest = JSON.parse(Buffer.from(await store.get(key)).toString('utf8')) as unknown;
      const prefix = Array.isArray(manifest) ? (manifest[0] as { prefix?: unknown } | undefined)?.prefix : undefined;
      if (!Array.isArray(manifest) || typeof prefix !== 'string' || !prefix.startsWith('s3://')) {
        throw new Error(`ClientError: the manifest ${source.S3Uri} must be [{"prefix": "s3://…/"}, "relative/path", …]`);
      }
      const listed = splitS3Uri(prefix);
      const prefixStore = storeAt(listed.bucket);
      for (const entry of manifest.slice(1)) {
        if (typeof entry !== 'string') throw new Error(`ClientError: the manifest ${source.S3Uri} lists a non-string entry`);
        await prefixStore.download(`${listed.key}${entry}`, path.join(directory, safeRelative(entry)));
      }
    } else {
      throw new Error(`ClientError: S3DataType ${source.S3DataType} is not supported by the emulator (S3Prefix, ManifestFile)`);
    }
  }
  const config = path.join(root, 'input', 'config');
  await mkdir(config, { recursive: true });
  await writeFile(path.join(config, 'hyperparameters.json'), JSON.stringify(request.HyperParameters ?? {}));
  const dataConfig = Object.fromEntries(channels.map((channel) => [channel.ChannelName, { ContentType: channel.ContentType, TrainingInputMode: 'File', S3DistributionType: 'FullyReplicated', RecordWrapperType: 'None' }]));
  await writeFile(path.join(config, 'inputdataconfig.json'), JSON.stringify(dataConfig));
  await mkdir(path.join(root, 'model'), { recursive: true });
  await mkdir(path.join(root, 'output'), { recursive: true });
}

/** Packs `<root>/model` as model.tar.gz and uploads it where SageMaker puts a job's model. */
async function uploadModel(request: Json, root: string, s3: S3Emulator, signal: AbortSignal): Promise<void> {
  const archive = path.join(root, 'output', 'model.tar.gz');
  const packed = await runProcess({ command: 'tar', args: ['-czf', archive, '-C', path.join(root, 'model'), '.'] }, { env: process.env, signal });
  if (packed.exitCode !== 0) throw new Error(`could not pack the model folder: ${packed.stderrTail}`);
  const output = splitS3Uri((request.OutputDataConfig as { S3OutputPath: string }).S3OutputPath);
  const store = createS3ObjectStorage({ ...s3.connection, bucket: output.bucket });
  await store.upload(`${output.key.replace(/\/?$/, '/')}${String(request.TrainingJobName)}/output/model.tar.gz`.replace(/^\//, ''), archive);
}

/** The project image's command, as this install runs it: `/opt/ml` paths mapped into the job folder. */
function projectCommand(request: Json, root: string): Invocation {
  const algorithm = request.AlgorithmSpecification as { ContainerEntrypoint?: string[]; ContainerArguments?: string[] };
  const entrypoint = algorithm.ContainerEntrypoint ?? [];
  if (JSON.stringify(entrypoint) !== JSON.stringify(PROJECT_IMAGE_ENTRYPOINT)) {
    throw new Error(`ClientError: the project image runs ${JSON.stringify(PROJECT_IMAGE_ENTRYPOINT)}, not ContainerEntrypoint ${JSON.stringify(entrypoint)}`);
  }
  const mapped = (algorithm.ContainerArguments ?? []).map((argument) => argument.replace(/^\/opt\/ml(?=\/|$)/, root));
  const cli = ownCliInvocation();
  return { command: cli.command, args: [...cli.args, ...mapped] };
}

/** Runs one job in a fresh job folder (removed afterwards). */
async function inJobFolder(options: TrainingRunnerOptions, request: Json, body: (root: string) => Promise<void>): Promise<void> {
  const parent = options.workDirectory ?? os.tmpdir();
  await mkdir(parent, { recursive: true });
  const root = await mkdtemp(path.join(parent, `sagemaker-${String(request.TrainingJobName)}-`));
  try {
    await body(root);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

async function runXGBoost(options: TrainingRunnerOptions, request: Json, signal: AbortSignal, progress: TrainingJobProgress): Promise<void> {
  await inJobFolder(options, request, async (root) => {
    await prepareJobFolder(request, root, options.s3);
    progress.setSecondaryStatus('Training');
    const result = await runProcess({ command: SYSTEM_PYTHON, args: ['-c', XGBOOST_ALGORITHM_SCRIPT, root] }, { env: process.env, signal });
    if (signal.aborted) throw new Error('stopped');
    if (result.exitCode !== 0) throw new Error(result.stderrTail || `the algorithm exited with ${result.exitCode ?? result.signal}`);
    progress.setSecondaryStatus('Uploading');
    await uploadModel(request, root, options.s3, signal);
  });
}

async function runProjectImage(options: TrainingRunnerOptions, request: Json, signal: AbortSignal, progress: TrainingJobProgress): Promise<void> {
  await inJobFolder(options, request, async (root) => {
    const command = projectCommand(request, root);
    await prepareJobFolder(request, root, options.s3);
    progress.setSecondaryStatus('Training');
    const environment = (request.Environment as Record<string, string> | undefined) ?? {};
    const name = String(request.TrainingJobName);
    const result = await runProcess(command, {
      cwd: root,
      env: { ...process.env, ...environment, TRAINING_JOB_NAME: name, SM_MODEL_DIR: path.join(root, 'model') },
      signal,
      onOutput: (text) => options.log?.(`[${name}] ${text.trimEnd()}`),
    });
    if (signal.aborted) throw new Error('stopped');
    if (result.exitCode !== 0) throw new Error(result.stderrTail || `the container exited with ${result.exitCode ?? result.signal}`);
    progress.setSecondaryStatus('Uploading');
    await uploadModel(request, root, options.s3, signal);
  });
}

/** The emulator's runner: by the job's TrainingImage, the built-in XGBoost or the project's image. */
export function createTrainingJobRunner(options: TrainingRunnerOptions): TrainingJobRunner {
  return async (request, signal, progress) => {
    const image = String((request.AlgorithmSpecification as { TrainingImage?: unknown } | undefined)?.TrainingImage ?? '');
    if (XGBOOST_IMAGE_PATTERN.test(image)) return runXGBoost(options, request, signal, progress);
    if (options.projectImage !== undefined && image === options.projectImage) return runProjectImage(options, request, signal, progress);
    const known = [`<registry>/sagemaker-xgboost:${XGBOOST_ALGORITHM_VERSION}`, ...(options.projectImage ? [options.projectImage] : [])];
    throw new Error(`ClientError: the emulator cannot run the image '${image}' (it runs ${known.join(' and ')})`);
  };
}

/** A runner for the built-in XGBoost only (what the tests of the XGBoost backend use). */
export function realXGBoostAlgorithm(s3: S3Emulator): TrainingJobRunner {
  return createTrainingJobRunner({ s3 });
}
