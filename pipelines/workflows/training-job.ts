/**
 * One training job as a cloud platform runs it inside the project's container (`retail-mlops
 * train-job`; Azure ML command jobs, SageMaker training jobs of the project's image): a TrainingJob
 * document, a local copy of its lake, an output folder. It trains with the in-process trainer and
 * writes `model.onnx` and `trained-model.json` (core/training/trained-model-files.ts), which the
 * backend reads back from the job's output.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { ProgressReporter } from '../../core/progress';
import { trainInProcess } from '../../core/training/in-process';
import { parseTrainingJob, writeTrainedModelFiles } from '../../core/training/trained-model-files';

export interface TrainingJobFilesOptions {
  /** The TrainingJob document (JSON). */
  readonly job: string;
  /** The local copy of the job's lake (the job reads exactly `dataset.version` of it). */
  readonly lake: string;
  /** The output folder (created when missing). */
  readonly out: string;
  readonly progress?: ProgressReporter;
}

export interface TrainingJobSummary {
  readonly job: string;
  readonly algorithm: string;
  readonly lakeVersion: number;
  readonly out: string;
  readonly files: readonly string[];
  readonly accuracy: number;
  readonly macroF1: number;
  readonly trainSeconds: number;
}

/** Trains the job on the local lake and writes its output files; resolves only when both are written. */
export async function runTrainingJobFiles(options: TrainingJobFilesOptions): Promise<TrainingJobSummary> {
  const job = parseTrainingJob(await fs.readFile(options.job, 'utf8'), options.job);
  const local = { ...job, dataset: { uri: path.resolve(options.lake), version: job.dataset.version } };
  const model = await trainInProcess(local, { progress: options.progress });
  // the model remembers where its data lives, not where the platform happened to put a copy
  await writeTrainedModelFiles(options.out, { ...model, job });
  return {
    job: job.name,
    algorithm: job.algorithm,
    lakeVersion: job.dataset.version,
    out: path.resolve(options.out),
    files: (await fs.readdir(options.out)).sort(),
    accuracy: model.metrics.accuracy,
    macroF1: model.metrics.macroF1,
    trainSeconds: model.trainSeconds,
  };
}
