import type { Command } from 'commander';
import { DRIFT_PSI_THRESHOLD } from '../../core/monitoring/drift';
import { PREDICTIONS_PREFIX } from '../../core/monitoring/prediction-segments';
import { driftReport, type DriftSummary } from '../../pipelines/workflows/drift-report';
import { createLocalObjectStorage } from '../../providers/local/object-storage';
import { createJsonLogger } from '../../server/logger';
import { withGlobalFlags } from '../cli';
import { openCommandEnvironment, withEnvironmentFlags } from '../environment';
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
      .option('--predictions <dir>', "a directory the API shipped its prediction log to (default: the lake's predictions/)")
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
        // the shipped segments are read where they are (a directory, or the lake's object storage)
        return driftReport({
          registry: await services.registry({ mirror: false }),
          model: flags.model,
          lake: await lake.openExisting(),
          lakeLocation: lake.location,
          predictions: flags.predictions
            ? { storage: createLocalObjectStorage({ root: flags.predictions }), prefix: '', location: flags.predictions }
            : { storage: await lake.storage(), prefix: PREDICTIONS_PREFIX, location: `${lake.location}/${PREDICTIONS_PREFIX}` },
          since,
          report: flags.report,
          // one structured line for log-based alerts, whatever the output mode
          logger: createJsonLogger(),
          environment: services.settings.name,
        });
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
