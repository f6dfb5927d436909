import type { Command } from 'commander';
import { InvalidOptionsError } from '../../core/errors';
import { DEFAULT_MONITORING, resolveMonitoringSettings, type MonitoringSettings, type ResolvedMonitoringSettings } from '../../core/monitoring/settings';
import { createRetrainTrigger } from '../../pipelines/triggers/retrain-trigger';
import type { RetrainTrigger } from '../../pipelines/triggers/trigger-http';
import { runMonitor, type MonitorSummary } from '../../pipelines/workflows/monitor';
import { createJsonLogger } from '../../server/logger';
import { withGlobalFlags } from '../cli';
import { openCommandEnvironment, withEnvironmentFlags } from '../environment';
import { EXIT_FAILURE, runCommand, UsageError, type GlobalFlags } from '../output';

interface MonitorFlags extends GlobalFlags {
  readonly environment?: string;
  readonly provider?: string;
  readonly lake?: string;
  readonly registry?: string;
  readonly model: string;
  readonly window?: number;
  readonly driftThreshold?: number;
  readonly minPredictions?: number;
  readonly labelWindow?: number;
  readonly minLabelled?: number;
  readonly minAccuracy?: number;
  readonly minMacroF1?: number;
  readonly cooldown?: number;
  readonly now?: string;
  readonly dryRun?: boolean;
}

function number(flag: string, check: (value: number) => boolean, meaning: string): (text: string) => number {
  return (text) => {
    const value = Number(text);
    if (text.trim() === '' || !Number.isFinite(value) || !check(value)) throw new UsageError(`${flag} must be ${meaning}, got '${text}'`);
    return value;
  };
}

const hours = (flag: string): ((text: string) => number) => number(flag, (value) => value > 0, 'a number of hours > 0');
const count = (flag: string): ((text: string) => number) => number(flag, (value) => Number.isInteger(value) && value >= 1, 'an integer ≥ 1');
const share = (flag: string): ((text: string) => number) => number(flag, (value) => value >= 0 && value <= 1, 'a number from 0 to 1');

/** What each threshold means, its flag, its key in `.retail-mlops.json` and its default (`monitor --help`). */
const THRESHOLDS_HELP = `
Thresholds (flag > "monitoring" in .retail-mlops.json > default):
  --window <hours>            monitoring.windowHours (default ${DEFAULT_MONITORING.windowHours})
      Drift compares the predictions shipped in the last <hours> with the model's evaluation weeks.
  --drift-threshold <psi>     monitoring.driftThreshold (default ${DEFAULT_MONITORING.driftThreshold})
      Population stability index above which a feature, or the share of predicted classes, has drifted.
      Below 0.1 is stable, 0.1-0.25 a moderate shift. Any drifted feature calls for a retrain.
  --min-predictions <n>       monitoring.minimumPredictions (default ${DEFAULT_MONITORING.minimumPredictions})
      With fewer predictions in the window PSI is noise: no drift verdict, nothing started.
  --label-window <hours>      monitoring.labelWindowHours (default ${DEFAULT_MONITORING.labelWindowHours})
      Live accuracy joins the predictions of the last <hours> that carried a BASKET_ID with the labelled
      baskets ingested since (gold, same BASKET_ID), and reports accuracy and macro-F1 per day.
  --min-labelled <n>          monitoring.minimumLabelledBaskets (default ${DEFAULT_MONITORING.minimumLabelledBaskets})
      With fewer labelled baskets there is no accuracy verdict.
  --min-accuracy <share>      monitoring.minimumAccuracy (default: the gate's minimumAccuracy, 0.75)
  --min-macro-f1 <share>      monitoring.minimumMacroF1 (default: the gate's minimumMacroF1, 0.70)
      Live accuracy or macro-F1 below these calls for a retrain.
  --cooldown <hours>          monitoring.cooldownHours (default ${DEFAULT_MONITORING.cooldownHours})
      At most one retrain is started per <hours>; the last start is kept in <lake>/monitoring/retrain-state.json.
  Retention of <lake>/predictions/ (applied on every run): monitoring.predictionsMaxAgeDays (default
  ${DEFAULT_MONITORING.predictionsMaxAgeDays}) and monitoring.predictionsMaxGigabytes (default ${DEFAULT_MONITORING.predictionsMaxGigabytes}), oldest first.

Retraining: monitoring.trigger in .retail-mlops.json names the CI (secrets come from variables only):
  jenkins       {url, job, parameters?}           JENKINS_USER + JENKINS_API_TOKEN (crumb + API token)
  azure-devops  {organizationUrl, project, pipelineId, branch?}   workload identity (or tokenVariable)
  travis        {repository, branch?, endpoint?}  TRAVIS_API_TOKEN
  webhook       {url, secretVariable?}            signs the body with HMAC-SHA256 when a secret is set
Without a trigger the monitor reports and starts nothing.

Output: the HTML report goes to <lake>/reports/drift/<time>-<model>.html (and latest.html); the log
gets drift.report, live.accuracy and retrain.trigger events. Exit codes: 0 done (whatever the
verdict), 1 a failure (the CI refused the trigger, the lake or registry unreadable), 2 bad settings.`;

/** `retail-mlops monitor`: drift, live accuracy, and the retrain they call for (hourly from the CronJob). */
export function registerMonitor(program: Command): void {
  withGlobalFlags(
    withEnvironmentFlags(
      program
        .command('monitor')
        .description('drift of the shipped predictions and live accuracy of the served model; starts the training pipeline through the CI when they call for it (with a cooldown)'),
      ['lake', 'registry'],
    )
      .option('--model <ref>', 'the served model: alias, version id or #n', 'production')
      .option('--window <hours>', 'hours of predictions compared with the reference', hours('--window'))
      .option('--drift-threshold <psi>', 'PSI above which a feature has drifted', number('--drift-threshold', (value) => value > 0, 'a PSI > 0'))
      .option('--min-predictions <n>', 'fewer predictions give no drift verdict', count('--min-predictions'))
      .option('--label-window <hours>', 'hours of predictions joined with labels ingested later', hours('--label-window'))
      .option('--min-labelled <n>', 'fewer labelled baskets give no accuracy verdict', count('--min-labelled'))
      .option('--min-accuracy <share>', 'live accuracy floor', share('--min-accuracy'))
      .option('--min-macro-f1 <share>', 'live macro-F1 floor', share('--min-macro-f1'))
      .option('--cooldown <hours>', 'at most one retrain per this many hours', number('--cooldown', (value) => value >= 0, 'a number of hours ≥ 0'))
      .option('--now <time>', 'end of the window (ISO 8601; default: now)')
      .option('--dry-run', 'decide and report, but start nothing')
      .addHelpText('after', THRESHOLDS_HELP),
  ).action(async (flags: MonitorFlags) => {
    const now = flags.now === undefined ? Date.now() : Date.parse(flags.now);
    if (Number.isNaN(now)) throw new UsageError(`--now must be an ISO 8601 time, got '${flags.now}'`);
    // settings problems (the environment's, the monitoring section's, missing secrets) are usage errors: exit 2 before anything runs
    const services = await openCommandEnvironment(flags, ['lake', 'serving']);
    let settings: ResolvedMonitoringSettings;
    let trigger: RetrainTrigger | undefined;
    try {
      const overrides: Partial<MonitoringSettings> = {
        windowHours: flags.window,
        driftThreshold: flags.driftThreshold,
        minimumPredictions: flags.minPredictions,
        labelWindowHours: flags.labelWindow,
        minimumLabelledBaskets: flags.minLabelled,
        minimumAccuracy: flags.minAccuracy,
        minimumMacroF1: flags.minMacroF1,
        cooldownHours: flags.cooldown,
      };
      settings = resolveMonitoringSettings(services.settings.project, overrides);
      if (settings.trigger) trigger = createRetrainTrigger(settings.trigger, { requireSecrets: !flags.dryRun });
    } catch (error) {
      if (error instanceof InvalidOptionsError) throw new UsageError(error.message);
      throw error;
    }
    let outcome: MonitorSummary['retrain']['outcome'] | undefined;
    await runCommand(
      flags,
      async () => {
        const lake = services.lake();
        const summary = await runMonitor({
          registry: await services.registry({ mirror: false }),
          model: flags.model,
          lake: await lake.openExisting(),
          storage: await lake.storage(),
          settings,
          environment: services.settings.name,
          now,
          dryRun: flags.dryRun === true,
          trigger,
          logger: createJsonLogger(),
        });
        outcome = summary.retrain.outcome;
        return summary;
      },
      describeMonitor,
    );
    if (outcome === 'failed') process.exitCode = EXIT_FAILURE;
  });
}

function describeMonitor(summary: MonitorSummary): string {
  const { drift, liveAccuracy, retrain } = summary;
  const lines = [
    `${summary.environment}: model ${summary.modelVersion}, ${summary.predictions} predictions of the last ${summary.window.hours} h against ${summary.referenceBaskets} baskets of weeks ${summary.referenceWeeks.join(' ')}`,
    `drift: ${drift.verdict}; largest PSI ${drift.maxPsi.toFixed(3)} (${drift.maxPsiFeature ?? '–'}), predicted classes ${drift.classPsi.toFixed(3)}` +
      (drift.drifted.length > 0
        ? `; ${drift.drifted.length} above ${drift.threshold}: ${drift.drifted.slice(0, 8).join(', ')}${drift.drifted.length > 8 ? ', … (all in --json and the report)' : ''}`
        : ''),
    liveAccuracy.accuracy !== undefined
      ? `live accuracy: ${liveAccuracy.verdict}; ${liveAccuracy.accuracy.toFixed(3)} accuracy, ${liveAccuracy.macroF1?.toFixed(3)} macro-F1 on ${liveAccuracy.records} labelled baskets`
      : 'live accuracy: no labelled baskets among the shipped predictions yet',
    `retrain: ${retrain.outcome}: ${retrain.detail}`,
    `report: ${summary.report}`,
  ];
  return lines.join('\n');
}
