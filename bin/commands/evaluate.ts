import type { Command } from 'commander';
import { createLocalRegistry } from '../../providers/local/registry';
import { withGlobalFlags } from '../cli';
import { evaluateModel, type EvaluationSummary } from '../jobs/evaluate-model';
import { progressFor, runCommand, type GlobalFlags } from '../output';

interface EvaluateFlags extends GlobalFlags {
  readonly registry: string;
  readonly model: string;
  readonly data: string[];
  readonly report?: string;
}

export function registerEvaluate(program: Command): void {
  withGlobalFlags(
    program
      .command('evaluate')
      .description('score data the model never saw (LGSR files as they are, or a lake) and report the metrics')
      .requiredOption('--registry <dir>', 'model registry directory')
      .option('--model <ref>', 'version id, #n or alias', 'candidate')
      .requiredOption('--data <paths...>', 'LGSR .csv/.csv.gz files or directories, or one lake directory')
      .option('--report <file.html>', 'write the HTML report here'),
  ).action(async (flags: EvaluateFlags) => {
    await runCommand(
      flags,
      () => evaluateModel({ registry: createLocalRegistry({ root: flags.registry }), model: flags.model, data: flags.data, report: flags.report, progress: progressFor(flags) }),
      describeEvaluation,
    );
  });
}

export function describeEvaluation(summary: EvaluationSummary): string {
  const { metrics } = summary;
  const lines = [
    `model ${summary.modelVersion} (${summary.algorithm}) on ${summary.data}, weeks ${summary.weeks.join(' ')}`,
    `accuracy ${metrics.accuracy.toFixed(4)}  macro-F1 ${metrics.macroF1.toFixed(4)}  log-loss ${metrics.logLoss.toFixed(4)}  rows ${metrics.rows}  XX excluded ${metrics.excluded.XX}`,
  ];
  for (const [label, values] of Object.entries(metrics.perClass)) {
    lines.push(`  ${label}: precision ${values.precision.toFixed(3)} recall ${values.recall.toFixed(3)} F1 ${values.f1.toFixed(3)} support ${values.support}`);
  }
  if (summary.report) lines.push(`report: ${summary.report}`);
  return lines.join('\n');
}
