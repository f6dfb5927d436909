import type { Command } from 'commander';
import { createLocalRegistry } from '../../providers/local/registry';
import { withGlobalFlags } from '../cli';
import { predictBaskets } from '../jobs/predict-baskets';
import { progressFor, runCommand, type GlobalFlags } from '../output';

interface PredictFlags extends GlobalFlags {
  readonly registry: string;
  readonly model: string;
  readonly data: string[];
  readonly out: string;
}

export function registerPredict(program: Command): void {
  withGlobalFlags(
    program
      .command('predict')
      .description('batch scoring: every basket of the data to a CSV or Parquet file')
      .requiredOption('--registry <dir>', 'model registry directory')
      .option('--model <ref>', 'version id, #n or alias', 'production')
      .requiredOption('--data <paths...>', 'LGSR files or directories, or one lake directory')
      .requiredOption('--out <file>', 'output .csv or .parquet'),
  ).action(async (flags: PredictFlags) => {
    await runCommand(
      flags,
      () => predictBaskets({ registry: createLocalRegistry({ root: flags.registry }), model: flags.model, data: flags.data, out: flags.out, progress: progressFor(flags) }),
      (summary) =>
        `${summary.baskets} baskets scored by ${summary.modelVersion} → ${summary.out} (${summary.seconds} s, ${summary.basketsPerSecond} baskets/s); ` +
        Object.entries(summary.labels).map(([label, count]) => `${label} ${count}`).join(', '),
    );
  });
}
