/**
 * One monitoring run (`retail-mlops monitor`, hourly from a CronJob): drift of the last window of
 * shipped predictions against the production model's evaluation weeks; live accuracy on the shipped
 * predictions whose baskets were labelled since (joined by BASKET_ID with gold); an HTML report to
 * `<lake>/reports/drift/`; `drift.report`, `live.accuracy` and `retrain.trigger` events in the log;
 * and, when drift passes the threshold or live accuracy falls below the floor, the training pipeline
 * started through the team's CI — at most once per cooldown, the last start kept in the lake
 * (`<lake>/monitoring/retrain-state.json`). Retention of the shipped log runs at the end.
 */
import { driftAgainst, driftReference, readPredictions } from './drift-report';
import { FEATURE_COUNT } from '../../core/features/spec';
import { readGoldLabels } from '../../core/lake/gold-reader';
import type { Lake } from '../../core/lake/lake';
import type { FeatureDrift } from '../../core/monitoring/drift';
import { renderDriftReport, type RetrainDecision } from '../../core/monitoring/drift-report';
import { computeLiveAccuracy, type LiveAccuracy } from '../../core/monitoring/live-accuracy';
import type { ShippedPredictions } from '../../core/monitoring/prediction-log-reader';
import { applyRetention, type RetentionOutcome } from '../../core/monitoring/prediction-retention';
import { PREDICTIONS_PREFIX, segmentStamp } from '../../core/monitoring/prediction-segments';
import type { ResolvedMonitoringSettings } from '../../core/monitoring/settings';
import { TELEMETRY_EVENTS } from '../../core/monitoring/telemetry';
import type { ModelRegistry } from '../../core/registry/port';
import { loadRegisteredModel } from '../../core/registry/registered-model';
import { PRICE_SENSITIVITY_CLASSES } from '../../core/schema/lgsr';
import { ObjectNotFoundError } from '../../core/storage/errors';
import type { ObjectStorage } from '../../core/storage/port';
import type { ServerLogger } from '../../server/logger';
import type { RetrainOutcome, RetrainTrigger } from '../triggers/trigger-http';

/** Where a run writes in the lake. */
export const MONITORING_KEYS = {
  reports: 'reports/drift',
  latestReport: 'reports/drift/latest.html',
  retrainState: 'monitoring/retrain-state.json',
} as const;

export interface MonitorOptions {
  readonly registry: ModelRegistry;
  /** The model being served (its evaluation weeks are the reference). */
  readonly model: string;
  /** The lake, readable here (its gold layer). */
  readonly lake: Lake;
  /** Object storage rooted at the lake: predictions/ is read, reports/ and monitoring/ written. */
  readonly storage: ObjectStorage;
  readonly settings: ResolvedMonitoringSettings;
  /** The environment named in events and CI requests. */
  readonly environment: string;
  /** The window ends here (epoch ms). */
  readonly now: number;
  /** Decide, report and log, but start nothing. */
  readonly dryRun: boolean;
  /** The configured CI, when there is one. */
  readonly trigger?: RetrainTrigger;
  readonly logger: ServerLogger;
}

export type DriftVerdict = 'drifted' | 'stable' | 'insufficient-data';
export type AccuracyVerdict = 'below-floor' | 'ok' | 'insufficient-data' | 'no-labels';
export type RetrainOutcomeKind = 'triggered' | 'cooldown' | 'not-needed' | 'disabled' | 'dry-run' | 'failed';

export interface MonitorSummary {
  readonly environment: string;
  readonly modelVersion: string;
  readonly window: { readonly from: string; readonly to: string; readonly hours: number };
  readonly referenceWeeks: readonly number[];
  readonly referenceBaskets: number;
  /** Records in the drift window (each counts 1 / its sampling rate in the statistics). */
  readonly predictions: number;
  readonly sampledShare: number;
  readonly drift: {
    readonly verdict: DriftVerdict;
    readonly threshold: number;
    readonly maxPsi: number;
    readonly maxPsiFeature?: string;
    readonly classPsi: number;
    readonly drifted: readonly string[];
    /** The ten largest. */
    readonly features: readonly FeatureDrift[];
  };
  readonly liveAccuracy: { readonly verdict: AccuracyVerdict; readonly minimumAccuracy: number; readonly minimumMacroF1: number } & Partial<LiveAccuracy>;
  readonly retrain: RetrainDecision & {
    readonly outcome: RetrainOutcomeKind;
    readonly ci?: { readonly kind: string; readonly target: string } & Partial<RetrainOutcome>;
    readonly lastTriggeredAt?: string;
    readonly error?: string;
  };
  /** The report's location in the lake. */
  readonly report: string;
  readonly retention: RetentionOutcome;
}

/** What the lake remembers between runs. */
interface RetrainState {
  /** The last start (or an attempt whose outcome is unknown: counted as a start). */
  readonly lastTriggeredAt?: string;
  readonly outcome?: 'pending' | 'triggered' | 'failed';
  readonly modelVersion?: string;
  readonly reasons?: readonly string[];
  readonly ci?: Readonly<Record<string, unknown>>;
  readonly lastFailure?: { readonly at: string; readonly error: string };
}

const HOUR_MS = 3_600_000;

async function readState(storage: ObjectStorage): Promise<RetrainState | undefined> {
  try {
    return JSON.parse(Buffer.from(await storage.get(MONITORING_KEYS.retrainState)).toString('utf8')) as RetrainState;
  } catch (error) {
    if (error instanceof ObjectNotFoundError) return undefined;
    throw error;
  }
}

async function writeState(storage: ObjectStorage, state: RetrainState): Promise<void> {
  await storage.put(MONITORING_KEYS.retrainState, Buffer.from(`${JSON.stringify(state, null, 2)}\n`), { contentType: 'application/json' });
}

/** The rows of `all` logged at or after `since`, as their own columns. */
function rowsSince(all: ShippedPredictions, since: number): ShippedPredictions {
  const rows: number[] = [];
  for (let row = 0; row < all.rows; row++) if (all.times[row] >= since) rows.push(row);
  if (rows.length === all.rows) return all;
  const features = new Float32Array(rows.length * FEATURE_COUNT);
  rows.forEach((row, at) => features.set(all.features.subarray(row * FEATURE_COUNT, (row + 1) * FEATURE_COUNT), at * FEATURE_COUNT));
  const pick = <T extends Uint8Array | Float64Array | Uint16Array>(array: T, make: (length: number) => T): T => {
    const picked = make(rows.length);
    rows.forEach((row, at) => (picked[at] = array[row]));
    return picked;
  };
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  let sampled = 0;
  for (const row of rows) {
    first = Math.min(first, all.times[row]);
    last = Math.max(last, all.times[row]);
    if (all.weights[row] > 1) sampled += 1;
  }
  return {
    ...all,
    rows: rows.length,
    features,
    predicted: pick(all.predicted, (length) => new Uint8Array(length)),
    weights: pick(all.weights, (length) => new Float64Array(length)),
    basketIds: pick(all.basketIds, (length) => new Float64Array(length)),
    times: pick(all.times, (length) => new Float64Array(length)),
    modelIndex: pick(all.modelIndex, (length) => new Uint16Array(length)),
    sampled,
    ...(rows.length > 0 ? { from: new Date(first).toISOString(), to: new Date(last).toISOString() } : { from: undefined, to: undefined }),
  };
}

/** Runs the monitor once. Never throws for a failed CI request: that is the outcome `failed` (the command exits 1). */
export async function runMonitor(options: MonitorOptions): Promise<MonitorSummary> {
  const { settings, storage, logger, environment, now } = options;
  const loaded = await loadRegisteredModel(options.registry, options.model);
  const modelVersion = loaded.version.id;
  const reference = await driftReference(loaded, options.lake);

  const windowStart = now - settings.windowHours * HOUR_MS;
  const labelStart = now - settings.labelWindowHours * HOUR_MS;
  const read = await readPredictions(storage, PREDICTIONS_PREFIX, { since: Math.min(windowStart, labelStart), until: now });
  const current = rowsSince(read, windowStart);
  const labelled = rowsSince(read, labelStart);

  // drift over the window
  const drift = driftAgainst(reference, current, settings.driftThreshold);
  const enough = current.rows >= settings.minimumPredictions;
  const driftVerdict: DriftVerdict = !enough ? 'insufficient-data' : drift.drifted.length > 0 ? 'drifted' : 'stable';

  // live accuracy over the label window
  const actual = await readGoldLabels(options.lake, labelled.basketIds);
  const live = computeLiveAccuracy({ classCount: PRICE_SENSITIVITY_CLASSES.length, predicted: labelled.predicted, actual, weights: labelled.weights, times: labelled.times });
  const floors = { minimumAccuracy: settings.minimumAccuracy, minimumMacroF1: settings.minimumMacroF1 };
  const accuracyVerdict: AccuracyVerdict = !live
    ? 'no-labels'
    : live.records < settings.minimumLabelledBaskets
      ? 'insufficient-data'
      : live.accuracy < settings.minimumAccuracy || live.macroF1 < settings.minimumMacroF1
        ? 'below-floor'
        : 'ok';

  const reasons: string[] = [];
  if (driftVerdict === 'drifted') {
    reasons.push(`drift: ${drift.drifted.length} above PSI ${settings.driftThreshold} (largest ${drift.maxPsi.toFixed(3)}, ${drift.maxPsiFeature}) over ${current.rows} predictions of the last ${settings.windowHours} h`);
  }
  if (accuracyVerdict === 'below-floor' && live) {
    reasons.push(
      `live accuracy ${live.accuracy.toFixed(3)} / macro-F1 ${live.macroF1.toFixed(3)} on ${live.records} labelled baskets, below the floor ${settings.minimumAccuracy} / ${settings.minimumMacroF1}`,
    );
  }

  const stamp = segmentStamp(now);
  const reportKey = `${MONITORING_KEYS.reports}/${stamp}-${modelVersion}.html`;
  const reportLocation = `${storage.location}/${reportKey}`;
  const retrain = await decideRetrain(options, { modelVersion, reasons, reportLocation, summary: { driftVerdict, accuracyVerdict, maxPsi: drift.maxPsi, live } });

  const insufficient = enough
    ? undefined
    : `only ${current.rows} predictions in the last ${settings.windowHours} h (fewer than ${settings.minimumPredictions}): no drift verdict`;
  const html = renderDriftReport({
    drift,
    modelVersion,
    reference: `the model's evaluation weeks ${reference.weeks.join(', ')} (${reference.rows.toLocaleString('en-US')} baskets)`,
    current: `${current.rows.toLocaleString('en-US')} predictions shipped to ${storage.location}/${PREDICTIONS_PREFIX} between ${new Date(windowStart).toISOString()} and ${new Date(now).toISOString()}`,
    ...(insufficient ? { insufficientData: insufficient } : {}),
    ...(live ? { liveAccuracy: live } : {}),
    accuracyFloor: { accuracy: settings.minimumAccuracy, macroF1: settings.minimumMacroF1 },
    retrain,
    sampledShare: current.rows > 0 ? current.sampled / current.rows : 0,
    generatedAt: new Date(now).toISOString(),
  });
  const page = Buffer.from(html);
  await storage.put(reportKey, page, { contentType: 'text/html; charset=utf-8' });
  await storage.put(MONITORING_KEYS.latestReport, page, { contentType: 'text/html; charset=utf-8' });

  const retentionPolicy = { maxAgeMs: settings.predictionsMaxAgeDays * 24 * HOUR_MS, maxBytes: settings.predictionsMaxGigabytes * 1024 ** 3 };
  const retention = await applyRetention(storage, PREDICTIONS_PREFIX, retentionPolicy, now);

  const summary: MonitorSummary = {
    environment,
    modelVersion,
    window: { from: new Date(windowStart).toISOString(), to: new Date(now).toISOString(), hours: settings.windowHours },
    referenceWeeks: reference.weeks,
    referenceBaskets: reference.rows,
    predictions: current.rows,
    sampledShare: current.rows > 0 ? current.sampled / current.rows : 0,
    drift: {
      verdict: driftVerdict,
      threshold: settings.driftThreshold,
      maxPsi: drift.maxPsi,
      ...(drift.maxPsiFeature ? { maxPsiFeature: drift.maxPsiFeature } : {}),
      classPsi: drift.classes.psi,
      drifted: drift.drifted,
      features: drift.features.slice(0, 10),
    },
    liveAccuracy: { verdict: accuracyVerdict, ...floors, ...(live ?? {}) },
    retrain,
    report: reportLocation,
    retention,
  };
  logEvents(logger, summary, drift.features.length);
  return summary;
}

async function decideRetrain(
  options: MonitorOptions,
  request: { readonly modelVersion: string; readonly reasons: readonly string[]; readonly reportLocation: string; readonly summary: Readonly<Record<string, unknown>> },
): Promise<MonitorSummary['retrain']> {
  const { storage, settings, now, trigger } = options;
  const state = await readState(storage);
  const lastTriggeredAt = state?.lastTriggeredAt;
  const ci = trigger ? { kind: trigger.kind, target: trigger.target } : undefined;
  const base = { reasons: request.reasons, ...(lastTriggeredAt ? { lastTriggeredAt } : {}), ...(ci ? { ci } : {}) };
  if (request.reasons.length === 0) return { ...base, outcome: 'not-needed', detail: 'neither drift nor live accuracy calls for a retrain' };
  const cooldownMs = settings.cooldownHours * HOUR_MS;
  if (lastTriggeredAt && now - Date.parse(lastTriggeredAt) < cooldownMs) {
    const until = new Date(Date.parse(lastTriggeredAt) + cooldownMs).toISOString();
    return { ...base, outcome: 'cooldown', detail: `a retrain was started at ${lastTriggeredAt}; the cooldown of ${settings.cooldownHours} h lasts until ${until}` };
  }
  if (!trigger) return { ...base, outcome: 'disabled', detail: 'no monitoring.trigger is configured in .retail-mlops.json: nothing was started' };
  if (options.dryRun) return { ...base, outcome: 'dry-run', detail: `--dry-run: ${trigger.kind} ${trigger.target} would have been asked to run the pipeline` };
  const at = new Date(now).toISOString();
  // recorded before the request: should this run die before the answer, the start still counts (at most one per cooldown)
  await writeState(storage, { ...state, lastTriggeredAt: at, outcome: 'pending', modelVersion: request.modelVersion, reasons: request.reasons });
  try {
    const answer = await trigger.trigger({
      environment: options.environment,
      modelVersion: request.modelVersion,
      reasons: request.reasons,
      report: request.reportLocation,
      summary: request.summary,
    });
    await writeState(storage, { lastTriggeredAt: at, outcome: 'triggered', modelVersion: request.modelVersion, reasons: request.reasons, ci: { ...ci, ...answer } });
    return { ...base, lastTriggeredAt: at, outcome: 'triggered', ci: { ...ci!, ...answer }, detail: `${trigger.kind} answered ${answer.status}${answer.location ? ` (${answer.location})` : ''}` };
  } catch (error) {
    const message = (error as Error).message;
    // a failed request starts nothing: the next run may try again
    await writeState(storage, { ...state, outcome: 'failed', lastFailure: { at, error: message } });
    return { ...base, outcome: 'failed', error: message, detail: `the ${trigger.kind} request failed: ${message}` };
  }
}

function logEvents(logger: ServerLogger, summary: MonitorSummary, featureCount: number): void {
  const { environment, modelVersion, drift, liveAccuracy, retrain } = summary;
  if (drift.verdict !== 'insufficient-data') {
    logger.log(drift.verdict === 'drifted' ? 'warn' : 'info', TELEMETRY_EVENTS.driftReport.name, {
      environment,
      modelVersion,
      maxPsi: drift.maxPsi,
      maxPsiFeature: drift.maxPsiFeature ?? null,
      classPsi: drift.classPsi,
      predictions: summary.predictions,
      driftedFeatures: drift.drifted.length,
      drifted: drift.drifted,
      threshold: drift.threshold,
      features: featureCount,
      report: summary.report,
    });
  } else {
    logger.log('info', 'monitor.insufficient-data', { environment, modelVersion, predictions: summary.predictions, window: summary.window });
  }
  if (liveAccuracy.verdict === 'ok' || liveAccuracy.verdict === 'below-floor') {
    logger.log(liveAccuracy.verdict === 'below-floor' ? 'warn' : 'info', TELEMETRY_EVENTS.liveAccuracy.name, {
      environment,
      modelVersion,
      accuracy: liveAccuracy.accuracy,
      macroF1: liveAccuracy.macroF1,
      labelledBaskets: liveAccuracy.records,
      verdict: liveAccuracy.verdict,
    });
  }
  logger.log(retrain.outcome === 'failed' ? 'error' : retrain.outcome === 'triggered' ? 'warn' : 'info', TELEMETRY_EVENTS.retrain.name, {
    environment,
    modelVersion,
    outcome: retrain.outcome,
    triggered: retrain.outcome === 'triggered' ? 1 : 0,
    reasons: retrain.reasons,
    detail: retrain.detail,
    ...(retrain.ci ? { ci: retrain.ci } : {}),
  });
}
