import * as os from 'node:os';
import type { Command } from 'commander';
import { GateFailedError } from '../../core/evaluation/gate';
import { gateModel, type GateSummary } from '../../pipelines/workflows/gate-model';
import { withGlobalFlags } from '../cli';
import { openCommandEnvironment, withEnvironmentFlags } from '../environment';
import { runCommand, type GlobalFlags } from '../output';

interface GateFlags extends GlobalFlags {
  readonly environment?: string;
  readonly provider?: string;
  readonly registry?: string;
  readonly model: string;
  readonly champion: string;
  readonly lake?: string;
  readonly sameRows: boolean;
  readonly alias?: string;
}

export function registerGate(program: Command): void {
  withGlobalFlags(
    withEnvironmentFlags(
      program
        .command('gate')
        .description('check a model against the KPI floor (.retail-mlops.json) and the champion; exits 1 listing every failed check'),
      ['lake', 'registry'],
    )
      .requiredOption('--model <ref>', 'the candidate: version id, #n or alias')
      .option('--champion <alias>', 'the alias to beat', 'production')
      .option('--no-same-rows', "compare with the champion's stored metrics instead of re-scoring it on the candidate's test weeks of the lake")
      .option('--alias <name>', 'point this alias at the candidate when the gate passes (e.g. candidate)'),
  ).action(async (flags: GateFlags) => {
    await runCommand(
      flags,
      async () => {
        const services = await openCommandEnvironment(flags, ['lake', 'registry']);
        const summary = await gateModel({
          registry: await services.registry(),
          model: flags.model,
          champion: flags.champion,
          openLake: flags.sameRows ? () => services.lake().openExisting() : undefined,
          thresholds: services.settings.project.gate,
          alias: flags.alias,
          actor: os.userInfo().username,
        });
        if (!summary.passed) {
          process.stdout.write(flags.json ? `${JSON.stringify(summary, null, 2)}\n` : `${describeGate(summary)}\n`);
          throw new GateFailedError(summary);
        }
        return summary;
      },
      describeGate,
    );
  });
}

function describeGate(summary: GateSummary): string {
  const lines = [`gate ${summary.passed ? 'passed' : 'FAILED'} for ${summary.modelVersion}`];
  for (const check of summary.checks) lines.push(`  ${check.passed ? 'ok  ' : 'FAIL'} ${check.message}`);
  if (summary.alias) lines.push(`alias ${summary.alias} → ${summary.modelVersion}`);
  return lines.join('\n');
}
