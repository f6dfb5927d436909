import type { Command } from 'commander';
import { openDataSource } from '../../pipelines/workflows/data-source';
import { evaluateModel, type EvaluationSummary } from '../../pipelines/workflows/evaluate-model';
import { withGlobalFlags } from '../cli';
import { openCommandEnvironment, withEnvironmentFlags } from '../environment';
import { progressFor, runCommand, type GlobalFlags } from '../output';

interface EvaluateFlags extends GlobalFlags {
  readonly environment?: string;
  readonly provider?: string;
  readonly lake?: string;
  readonly registry?: string;
  readonly model: string;
  readonly data?: string[];
  readonly report?: string;
}

export function registerEvaluate(program: Command): void {
  withGlobalFlags(
    withEnvironmentFlags(
      program
        .command('evaluate')
        .description('score data the model never saw (LGSR files as they are, or a lake) and report the metrics'),
      ['lake', 'registry'],
    )
      .option('--model <ref>', 'version id, #n or alias', 'candidate')
      .option('--data <paths...>', "LGSR .csv/.csv.gz files or directories, a cloud location of them, or one lake (default: the environment's lake)")
      .option('--report <file.html>', 'write the HTML report here'),
  ).action(async (flags: EvaluateFlags) => {
    await runCommand(
      flags,
      async () => {
        const services = await openCommandEnvironment(flags, ['lake', 'serving']);
        return evaluateModel({
          registry: await services.registry({ mirror: false }),
          model: flags.model,
          openSource: () => openDataSource(services, flags.data ?? [], progressFor(flags)),
          report: flags.report,
          progress: progressFor(flags),
        });
      },
      describeEvaluation,
    );
  });
}

function describeEvaluation(summary: EvaluationSummary): string {
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
