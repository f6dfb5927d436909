import { Option, type Command } from 'commander';
import { SCORING_ENGINES, type ScoringEngine } from '../../core/onnx/row-scorer';
import { openDataSource } from '../../pipelines/workflows/data-source';
import { scoreToFile } from '../../pipelines/workflows/score-to-file';
import { withGlobalFlags } from '../cli';
import { openCommandEnvironment, withEnvironmentFlags } from '../environment';
import { positiveInteger, progressFor, runCommand, type GlobalFlags } from '../output';

interface PredictFlags extends GlobalFlags {
  readonly environment?: string;
  readonly provider?: string;
  readonly lake?: string;
  readonly registry?: string;
  readonly model: string;
  readonly data?: string[];
  readonly out: string;
  readonly engine: ScoringEngine;
  readonly workers?: number;
}

export function registerPredict(program: Command): void {
  withGlobalFlags(
    withEnvironmentFlags(program.command('predict').description('batch scoring: every basket of the data to a CSV or Parquet file'), ['lake', 'registry'])
      .option('--model <ref>', 'version id, #n or alias', 'production')
      .option('--data <paths...>', "LGSR files or directories, a cloud location of them, or one lake (default: the environment's lake)")
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
      async () => {
        const services = await openCommandEnvironment(flags, ['lake', 'serving']);
        return scoreToFile({
          registry: await services.registry({ mirror: false }),
          model: flags.model,
          openSource: () => openDataSource(services, flags.data ?? [], progressFor(flags)),
          out: flags.out,
          engine: flags.engine,
          workers: flags.workers,
          progress: progressFor(flags),
        });
      },
      (summary) =>
        `${summary.baskets} baskets scored by ${summary.modelVersion} → ${summary.out} (${summary.seconds} s, ${summary.basketsPerSecond} baskets/s, ${summary.engine}` +
        `${summary.verifiedRows > 0 ? `, ${summary.verifiedRows} rows checked against ONNX Runtime: max difference ${summary.maxDifference.toExponential(1)}` : ''}); ` +
        Object.entries(summary.labels).map(([label, count]) => `${label} ${count}`).join(', '),
    );
  });
}
