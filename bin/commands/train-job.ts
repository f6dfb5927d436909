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
import type { Command } from 'commander';
import { runTrainingJobFiles, type TrainingJobSummary } from '../../pipelines/workflows/training-job';
import { withGlobalFlags } from '../cli';
import { progressFor, runCommand, type GlobalFlags } from '../output';

interface TrainJobFlags extends GlobalFlags {
  readonly job: string;
  readonly lake: string;
  readonly out: string;
}

export function registerTrainJob(program: Command): void {
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
      () => runTrainingJobFiles({ job: flags.job, lake: flags.lake, out: flags.out, progress: progressFor(flags) }),
      (summary: TrainingJobSummary) =>
        `trained ${summary.job} (${summary.algorithm}, lake v${summary.lakeVersion}) in ${summary.trainSeconds} s: accuracy ${summary.accuracy.toFixed(4)}, macro-F1 ${summary.macroF1.toFixed(4)} → ${summary.out}`,
    );
  });
}
