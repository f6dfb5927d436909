import * as os from 'node:os';
import type { Command } from 'commander';
import { Lake } from '../../core/data/lake';
import { GateFailedError } from '../../core/evaluation/gate';
import { createLocalRegistry } from '../../providers/local/registry';
import { withGlobalFlags } from '../cli';
import { gateModel, type GateSummary } from '../jobs/gate-model';
import { runCommand, type GlobalFlags } from '../output';
import { readProjectConfig } from '../project-config';

interface GateFlags extends GlobalFlags {
  readonly registry: string;
  readonly model: string;
  readonly champion: string;
  readonly lake?: string;
  readonly alias?: string;
}

export function registerGate(program: Command): void {
  withGlobalFlags(
    program
      .command('gate')
      .description('check a model against the KPI floor (.retail-mlops.json) and the champion; exits 1 listing every failed check')
      .requiredOption('--registry <dir>', 'model registry directory')
      .requiredOption('--model <ref>', 'the candidate: version id, #n or alias')
      .option('--champion <alias>', 'the alias to beat', 'production')
      .option('--lake <dir>', 're-evaluate the champion on the candidate’s test weeks of this lake')
      .option('--alias <name>', 'point this alias at the candidate when the gate passes (e.g. candidate)'),
  ).action(async (flags: GateFlags) => {
    await runCommand(
      flags,
      async () => {
        const summary = await gateModel({
          registry: createLocalRegistry({ root: flags.registry }),
          model: flags.model,
          champion: flags.champion,
          lake: flags.lake ? await Lake.openExisting(flags.lake) : undefined,
          thresholds: readProjectConfig().gate,
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

export function describeGate(summary: GateSummary): string {
  const lines = [`gate ${summary.passed ? 'passed' : 'FAILED'} for ${summary.modelVersion}`];
  for (const check of summary.checks) lines.push(`  ${check.passed ? 'ok  ' : 'FAIL'} ${check.message}`);
  if (summary.alias) lines.push(`alias ${summary.alias} → ${summary.modelVersion}`);
  return lines.join('\n');
}
