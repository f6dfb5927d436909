import { mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Command } from 'commander';
import { DRIFT_PSI_THRESHOLD, DRIFT_REPORT_EVENT } from '../../core/monitoring/drift';
import { createJsonLogger } from '../../server/logger';
import { withGlobalFlags } from '../cli';
import { openCommandEnvironment, withEnvironmentFlags } from '../environment';
import { driftReport, type DriftSummary } from '../jobs/drift-report';
import { runCommand, UsageError, type GlobalFlags } from '../output';

interface DriftFlags extends GlobalFlags {
  readonly environment?: string;
  readonly provider?: string;
  readonly registry?: string;
  readonly model: string;
  readonly lake?: string;
  readonly predictions?: string;
  readonly since?: string;
  readonly report?: string;
}

export function registerDrift(program: Command): void {
  withGlobalFlags(
    withEnvironmentFlags(
      program
        .command('drift')
        .description("drift of the API's logged predictions against the model's evaluation weeks: PSI per feature and of the predicted classes"),
      ['lake', 'registry'],
    )
      .option('--model <ref>', 'version id, #n or alias whose evaluation weeks are the reference', 'production')
      .option('--predictions <dir>', "a directory of prediction-log files (default: the lake's predictions/)")
      .option('--since <time>', 'only predictions logged at or after this ISO 8601 time')
      .option('--report <file.html>', 'write the HTML report here'),
  ).action(async (flags: DriftFlags) => {
    const since = flags.since === undefined ? undefined : new Date(flags.since);
    if (since && Number.isNaN(since.getTime())) throw new UsageError(`--since must be an ISO 8601 time, got '${flags.since}'`);
    await runCommand(
      flags,
      async () => {
        const services = await openCommandEnvironment(flags, ['lake', 'serving']);
        const lake = services.lake();
        let scratch: string | undefined;
        let predictions = flags.predictions;
        if (predictions === undefined && lake.isLocal) predictions = path.join(lake.location, 'predictions');
        if (predictions === undefined) {
          // a cloud lake: its shipped prediction-log files, copied here
          scratch = await mkdtemp(path.join(os.tmpdir(), 'retail-mlops-predictions-'));
          const storage = await lake.storage();
          for (const object of await storage.list('predictions/')) {
            if (object.key.endsWith('.jsonl')) await storage.download(object.key, path.join(scratch, object.key.slice('predictions/'.length).replaceAll('/', '__')));
          }
          predictions = scratch;
        }
        let summary;
        try {
          summary = await driftReport({
            registry: await services.registry({ mirror: false }),
            model: flags.model,
            lake: await lake.openExisting(),
            lakeLocation: lake.location,
            predictions,
            since,
            report: flags.report,
          });
        } finally {
          if (scratch) await rm(scratch, { recursive: true, force: true });
        }
        // one structured line for log-based alerts, whatever the output mode
        createJsonLogger().log(summary.drifted.length > 0 ? 'warn' : 'info', DRIFT_REPORT_EVENT, {
          modelVersion: summary.modelVersion,
          maxPsi: summary.maxPsi,
          maxPsiFeature: summary.maxPsiFeature ?? null,
          classPsi: summary.classPsi,
          predictions: summary.predictions,
          drifted: summary.drifted,
        });
        return summary;
      },
      describeDrift,
    );
  });
}

function describeDrift(summary: DriftSummary): string {
  const lines = [
    `model ${summary.modelVersion}: ${summary.predictions} logged predictions (${summary.from ?? '?'} … ${summary.to ?? '?'}, ${summary.files} files) ` +
      `against ${summary.referenceBaskets} baskets of weeks ${summary.referenceWeeks.join(' ')}`,
    `largest PSI ${summary.maxPsi.toFixed(3)} (${summary.maxPsiFeature ?? '–'}), predicted classes ${summary.classPsi.toFixed(3)}; ` +
      (summary.drifted.length > 0 ? `above ${DRIFT_PSI_THRESHOLD}: ${summary.drifted.join(', ')}` : `nothing above ${DRIFT_PSI_THRESHOLD}`),
  ];
  for (const feature of summary.features.slice(0, 5)) lines.push(`  ${feature.feature.padEnd(36)} PSI ${feature.psi.toFixed(4)}`);
  if (summary.skipped > 0) lines.push(`${summary.skipped} records of another feature spec skipped`);
  if (summary.report) lines.push(`report: ${summary.report}`);
  return lines.join('\n');
}
