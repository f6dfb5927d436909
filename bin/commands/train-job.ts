/**
 * `retail-mlops train-job`: what a cloud training job runs inside the project's container (Azure ML
 * command job; the same image as the API). It trains one TrainingJob with the in-process trainer on
 * a lake the platform has put on the local disk, and writes the result as files the backend reads
 * back from the job's output folder:
 *
 *   retail-mlops train-job --job <job.json> --lake <lake dir> --out <output dir>
 *
 * The job's `dataset.uri` names the lake where it lives in the cloud; `--lake` is the local copy of
 * it (the job reads exactly `dataset.version` of it). The output folder gets `model.onnx` and
 * `trained-model.json` (core/training/trained-model-files.ts). Exit 0 only when both are written.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { trainInProcess } from '../../core/training/in-process';
import { parseTrainingJob, writeTrainedModelFiles } from '../../core/training/trained-model-files';
import { withGlobalFlags, type CommandRegistration } from '../cli';
import { progressFor, runCommand, type GlobalFlags } from '../output';

interface TrainJobFlags extends GlobalFlags {
  readonly job: string;
  readonly lake: string;
  readonly out: string;
}

/** What `train-job --json` prints. */
export interface TrainJobSummary {
  readonly job: string;
  readonly algorithm: string;
  readonly lakeVersion: number;
  readonly out: string;
  readonly files: readonly string[];
  readonly accuracy: number;
  readonly macroF1: number;
  readonly trainSeconds: number;
}

export const registerTrainJob: CommandRegistration = (program: Command) => {
  withGlobalFlags(
    program
      .command('train-job')
      .description('run one training job (a TrainingJob JSON file) on a local copy of its lake and write model.onnx + trained-model.json; what cloud training jobs run')
      .requiredOption('--job <file>', 'the TrainingJob document (JSON)')
      .requiredOption('--lake <dir>', 'the local copy of the job\'s lake')
      .requiredOption('--out <dir>', 'the output folder (created when missing)'),
  ).action(async (flags: TrainJobFlags) => {
    await runCommand(
      flags,
      async (): Promise<TrainJobSummary> => {
        const job = parseTrainingJob(await fs.readFile(flags.job, 'utf8'), flags.job);
        const local = { ...job, dataset: { uri: path.resolve(flags.lake), version: job.dataset.version } };
        const model = await trainInProcess(local, { progress: progressFor(flags) });
        // the model remembers where its data lives, not where the platform happened to put a copy
        await writeTrainedModelFiles(flags.out, { ...model, job });
        return {
          job: job.name,
          algorithm: job.algorithm,
          lakeVersion: job.dataset.version,
          out: path.resolve(flags.out),
          files: (await fs.readdir(flags.out)).sort(),
          accuracy: model.metrics.accuracy,
          macroF1: model.metrics.macroF1,
          trainSeconds: model.trainSeconds,
        };
      },
      (summary) => `trained ${summary.job} (${summary.algorithm}, lake v${summary.lakeVersion}) in ${summary.trainSeconds} s: accuracy ${summary.accuracy.toFixed(4)}, macro-F1 ${summary.macroF1.toFixed(4)} → ${summary.out}`,
    );
  });
};
