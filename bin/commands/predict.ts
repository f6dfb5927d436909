import { Option, type Command } from 'commander';
import { SCORING_ENGINES, type ScoringEngine } from '../../core/onnx/row-scorer';
import { createLocalRegistry } from '../../providers/local/registry';
import { withGlobalFlags } from '../cli';
import { predictBaskets } from '../jobs/predict-baskets';
import { positiveInteger, progressFor, runCommand, type GlobalFlags } from '../output';

interface PredictFlags extends GlobalFlags {
  readonly registry: string;
  readonly model: string;
  readonly data: string[];
  readonly out: string;
  readonly engine: ScoringEngine;
  readonly workers?: number;
}

export function registerPredict(program: Command): void {
  withGlobalFlags(
    program
      .command('predict')
      .description('batch scoring: every basket of the data to a CSV or Parquet file')
      .requiredOption('--registry <dir>', 'model registry directory')
      .option('--model <ref>', 'version id, #n or alias', 'production')
      .requiredOption('--data <paths...>', 'LGSR files or directories, or one lake directory')
      .requiredOption('--out <file>', 'output .csv or .parquet')
      .addOption(
        new Option('--engine <engine>', 'auto: tree ensembles compiled for batch scoring (checked against ONNX Runtime), ONNX Runtime for the rest; onnxruntime: ONNX Runtime only')
          .choices(SCORING_ENGINES)
          .default('auto'),
      )
      .option('--workers <n>', 'scoring threads (default: one per core)', positiveInteger('--workers')),
  ).action(async (flags: PredictFlags) => {
    await runCommand(
      flags,
      () =>
        predictBaskets({
          registry: createLocalRegistry({ root: flags.registry }),
          model: flags.model,
          data: flags.data,
          out: flags.out,
          engine: flags.engine,
          workers: flags.workers,
          progress: progressFor(flags),
        }),
      (summary) =>
        `${summary.baskets} baskets scored by ${summary.modelVersion} → ${summary.out} (${summary.seconds} s, ${summary.basketsPerSecond} baskets/s, ${summary.engine}` +
        `${summary.verifiedRows > 0 ? `, ${summary.verifiedRows} rows checked against ONNX Runtime: max difference ${summary.maxDifference.toExponential(1)}` : ''}); ` +
        Object.entries(summary.labels).map(([label, count]) => `${label} ${count}`).join(', '),
    );
  });
}
