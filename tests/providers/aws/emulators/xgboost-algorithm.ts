/**
 * What SageMaker's built-in XGBoost 1.7-1 container does with a training job, done for real on this
 * machine: download the channels from S3, train with Debian's python3-xgboost (1.7) the way the
 * container's algorithm mode does (sagemaker-xgboost-container v1.7-1-1, algorithm_mode/train.py and
 * callback.py: watchlist train + validation, early stopping on the validation channel's last
 * eval_metric with `save_best=True`, `bst.save_model('<model_dir>/xgboost-model')` — no extension,
 * so XGBoost's legacy binary format), then tar + gzip the model directory and upload it to
 * `<S3OutputPath><job name>/output/model.tar.gz`.
 */
import { execFile } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { promisify } from 'node:util';
import type { S3Emulator } from './s3';
import { createS3ObjectStorage } from '../../../../providers/aws/object-storage';
import { SYSTEM_PYTHON } from '../../../helpers/onnx';
import { temporaryDirectory } from '../../../helpers/paths';

const run = promisify(execFile);

const ALGORITHM_SCRIPT = `
import glob, json, os, sys, tarfile
import numpy as np
import xgboost as xgb

config = json.load(open(sys.argv[1]))
INTEGERS = {"num_round", "num_class", "max_depth", "max_bin", "seed", "early_stopping_rounds", "nthread"}
def typed(name, value):
    if name in INTEGERS:
        return int(value)
    try:
        return float(value)
    except ValueError:
        return value
params = {name: typed(name, value) for name, value in config["hyperparameters"].items()}
num_round = params.pop("num_round")
early_stopping_rounds = params.pop("early_stopping_rounds", None)
params["nthread"] = 1

def load(directory):
    files = sorted(glob.glob(os.path.join(directory, "*")))
    if config["content_type"] == "text/csv":
        data = np.concatenate([np.loadtxt(name, delimiter=",", dtype=np.float32, ndmin=2) for name in files])
        return xgb.DMatrix(data[:, 1:], label=data[:, 0], nthread=1)
    return xgb.DMatrix(files[0] + "?format=libsvm", nthread=1)

train = load(config["channels"]["train"])
watchlist = [(train, "train")]
validation = None
if "validation" in config["channels"]:
    validation = load(config["channels"]["validation"])
    watchlist.append((validation, "validation"))
callbacks = []
metric = params.get("eval_metric")
if early_stopping_rounds and validation is not None and metric:
    callbacks.append(xgb.callback.EarlyStopping(rounds=early_stopping_rounds, data_name="validation",
                                                metric_name=metric.split(",")[-1], save_best=True))
booster = xgb.train(params, train, num_boost_round=num_round, evals=watchlist, callbacks=callbacks, verbose_eval=False)
os.makedirs(config["model_dir"], exist_ok=True)
booster.save_model(os.path.join(config["model_dir"], "xgboost-model"))
with tarfile.open(config["archive"], "w:gz") as archive:
    archive.add(os.path.join(config["model_dir"], "xgboost-model"), arcname="xgboost-model")
`;

function splitS3Uri(uri: string): { bucket: string; key: string } {
  const [bucket, ...rest] = uri.replace(/^s3:\/\//, '').split('/');
  return { bucket, key: rest.join('/') };
}

type Json = Record<string, unknown>;

/** A `runTrainingJob` for the fake control plane that trains with real XGBoost on the job's S3 channels. */
export function realXGBoostAlgorithm(emulator: S3Emulator): (request: Json, signal: AbortSignal) => Promise<void> {
  return async (request, signal) => {
    const work = temporaryDirectory('sagemaker-job-');
    try {
      const channels: Record<string, string> = {};
      type ChannelRequest = { ChannelName: string; ContentType: string; DataSource: { S3DataSource: { S3Uri: string } } };
      for (const channel of request.InputDataConfig as ChannelRequest[]) {
        const { bucket, key } = splitS3Uri(channel.DataSource.S3DataSource.S3Uri);
        const store = createS3ObjectStorage({ ...emulator.connection, bucket, prefix: key.replace(/\/$/, '') });
        const directory = path.join(work.path, 'input', 'data', channel.ChannelName);
        await mkdir(directory, { recursive: true });
        for (const object of await store.list('')) await store.download(object.key, path.join(directory, object.key.replaceAll('/', '_')));
        channels[channel.ChannelName] = directory;
      }
      const contentType = (request.InputDataConfig as { ContentType: string }[])[0].ContentType;
      const archive = path.join(work.path, 'model.tar.gz');
      const config = { hyperparameters: request.HyperParameters, channels, content_type: contentType, model_dir: path.join(work.path, 'model'), archive };
      await writeFile(path.join(work.path, 'config.json'), JSON.stringify(config));
      await run(SYSTEM_PYTHON, ['-c', ALGORITHM_SCRIPT, path.join(work.path, 'config.json')], { signal, timeout: 300_000 });
      const output = splitS3Uri((request.OutputDataConfig as { S3OutputPath: string }).S3OutputPath);
      const store = createS3ObjectStorage({ ...emulator.connection, bucket: output.bucket });
      await store.upload(`${output.key.replace(/\/?$/, '/')}${String(request.TrainingJobName)}/output/model.tar.gz`.replace(/^\//, ''), archive);
    } finally {
      await rm(work.path, { recursive: true, force: true });
    }
  };
}
