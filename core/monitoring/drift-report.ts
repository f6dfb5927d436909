import type { DriftResult } from './drift';
import type { LiveAccuracy } from './live-accuracy';
import { htmlDocument } from '../evaluation/report';
import { CHART_COLORS, escapeMarkup, groupedBarChart, horizontalBarChart, lineChart } from '../evaluation/svg-charts';

/** What the monitor decided about retraining (shown at the top of the report). */
export interface RetrainDecision {
  /** `triggered`, `cooldown`, `not-needed`, `disabled`, `dry-run`, `failed`, `insufficient-data`. */
  readonly outcome: string;
  /** Why a retrain is (or would be) called for; empty when none is. */
  readonly reasons: readonly string[];
  /** One sentence on what happened. */
  readonly detail: string;
}

export interface DriftReportInput {
  readonly drift: DriftResult;
  readonly modelVersion: string;
  /** What the reference is, e.g. `the model's evaluation weeks 200611 (3,966 baskets)`. */
  readonly reference: string;
  /** What is compared with it, e.g. `12,004 predictions logged 2026-11-20 … 2026-11-25`. */
  readonly current: string;
  /** Live accuracy on the baskets whose labels arrived, when any did. */
  readonly liveAccuracy?: LiveAccuracy;
  /** The floors live accuracy is held to. */
  readonly accuracyFloor?: { readonly accuracy: number; readonly macroF1: number };
  readonly retrain?: RetrainDecision;
  /** Share of the records that were logged while the server sampled (weighted back in). */
  readonly sampledShare?: number;
  /** Why there is no drift verdict (too few predictions), replacing it. */
  readonly insufficientData?: string;
  readonly generatedAt?: string;
}

/** Features shown in the chart and the table. */
const SHOWN = 20;

const percent = (value: number): string => `${(value * 100).toFixed(1)}%`;

/** The drift report: verdict and retrain decision, PSI of the most shifted features, predicted classes then and now, live accuracy per day. */
export function renderDriftReport(input: DriftReportInput): string {
  const { drift } = input;
  const threshold = drift.threshold;
  const verdict = input.insufficientData
    ? input.insufficientData
    : drift.drifted.length > 0
      ? `${drift.drifted.length} above PSI ${threshold}: ${drift.drifted.slice(0, 5).join(', ')}${drift.drifted.length > 5 ? ', …' : ''}: consider retraining`
      : `no feature above PSI ${threshold}`;
  const kpis: Array<[string, string]> = [
    ['Largest feature PSI', drift.maxPsi.toFixed(3)],
    ['Predicted-class PSI', drift.classes.psi.toFixed(3)],
    ['Reference baskets', drift.referenceRows.toLocaleString('en-US')],
    ['Current baskets', drift.currentRows.toLocaleString('en-US')],
  ];
  if (input.liveAccuracy) kpis.push(['Live accuracy', input.liveAccuracy.accuracy.toFixed(3)], ['Live macro-F1', input.liveAccuracy.macroF1.toFixed(3)]);
  const shown = drift.features.slice(0, SHOWN);
  const retrain = input.retrain
    ? `<p class="note"><strong>Retraining: ${escapeMarkup(input.retrain.outcome)}</strong>. ${escapeMarkup(input.retrain.detail)}` +
      (input.retrain.reasons.length > 0 ? ` Reasons: ${input.retrain.reasons.map(escapeMarkup).join('; ')}.` : '') +
      '</p>'
    : '';
  const sampled =
    input.sampledShare !== undefined && input.sampledShare > 0
      ? ` ${percent(input.sampledShare)} of the records were logged while the server sampled; each counts 1 / its rate.`
      : '';
  const summary =
    '<section aria-labelledby="summary-heading"><h2 id="summary-heading">Summary</h2>' +
    `<div class="headline">${kpis.map(([label, value]) => `<div class="kpi"><div class="value">${value}</div><div class="label">${escapeMarkup(label)}</div></div>`).join('')}</div>` +
    `<p class="note"><strong>${escapeMarkup(verdict)}</strong>. Reference: ${escapeMarkup(input.reference)}. Current: ${escapeMarkup(input.current)}.${escapeMarkup(sampled)} ` +
    `PSI below 0.1 is stable, 0.1–${threshold} a moderate shift, above ${threshold} a shift worth retraining for.</p>${retrain}</section>`;
  const features =
    `<section aria-labelledby="features-heading"><h2 id="features-heading">Feature drift (PSI, the ${shown.length} largest)</h2><figure>` +
    horizontalBarChart({
      id: 'feature-psi',
      title: 'Population stability index per feature',
      description: `PSI of each feature between the reference baskets and the current ones, largest first; features above ${threshold} in vermillion`,
      color: CHART_COLORS.blue,
      items: shown.map((item) => ({ label: item.feature, value: item.psi, ...(item.psi > threshold ? { color: CHART_COLORS.vermillion } : {}) })),
    }) +
    '</figure><table><thead><tr><th>feature</th><th>PSI</th><th>drifted</th><th>mean then</th><th>mean now</th></tr></thead><tbody>' +
    shown
      .map(
        (item) =>
          `<tr><td>${escapeMarkup(item.feature)}</td><td>${item.psi.toFixed(4)}</td><td>${item.psi > threshold ? 'yes' : ''}</td>` +
          `<td>${item.referenceMean.toPrecision(4)}</td><td>${item.currentMean.toPrecision(4)}</td></tr>`,
      )
      .join('') +
    '</tbody></table></section>';
  const classes =
    '<section aria-labelledby="classes-heading"><h2 id="classes-heading">Predicted classes</h2><figure>' +
    groupedBarChart({
      id: 'class-shares',
      title: 'Share of each predicted class',
      description: 'Share of baskets predicted LA, MM and UM in the reference and now',
      series: [
        { name: 'reference', color: CHART_COLORS.blue },
        { name: 'current', color: CHART_COLORS.orange },
      ],
      groups: drift.classes.labels.map((label, index) => ({ label, values: [drift.classes.reference[index], drift.classes.current[index]] })),
    }) +
    '</figure></section>';
  return htmlDocument({
    title: `Drift report (${input.modelVersion})`,
    heading: 'Basket price-sensitivity model: drift and live accuracy',
    subtitle: `version ${input.modelVersion} · largest PSI ${drift.maxPsi.toFixed(3)}${drift.maxPsiFeature ? ` (${drift.maxPsiFeature})` : ''}`,
    sections: [summary, features, classes, liveAccuracySection(input)],
    footer: `retail-mlops drift report${input.generatedAt ? ` · generated ${input.generatedAt}` : ''} · self-contained: no scripts, no external resources.`,
  });
}

function liveAccuracySection(input: DriftReportInput): string {
  const heading = '<section aria-labelledby="live-heading"><h2 id="live-heading">Live accuracy (labels that arrived later)</h2>';
  const live = input.liveAccuracy;
  if (!live) {
    return `${heading}<p class="note">No shipped prediction has a label yet: send BASKET_ID with each basket and ingest the labelled baskets; the monitor joins them by BASKET_ID.</p></section>`;
  }
  const floor = input.accuracyFloor ? ` Floors: accuracy ${input.accuracyFloor.accuracy}, macro-F1 ${input.accuracyFloor.macroF1}.` : '';
  return (
    heading +
    `<p class="note">${Math.round(live.baskets).toLocaleString('en-US')} labelled baskets (${live.records.toLocaleString('en-US')} records): accuracy ${live.accuracy.toFixed(3)}, macro-F1 ${live.macroF1.toFixed(3)}.${floor}</p><figure>` +
    lineChart({
      id: 'live-accuracy',
      title: 'Live accuracy and macro-F1 per day',
      description: 'Accuracy and macro-F1 of the served model on baskets whose labels arrived later, by day of prediction (UTC)',
      labels: live.days.map((day) => day.day.slice(5)),
      sublabels: live.days.map((day) => `${Math.round(day.baskets)} baskets`),
      series: [
        { name: 'accuracy', color: CHART_COLORS.green, values: live.days.map((day) => day.accuracy) },
        { name: 'macro-F1', color: CHART_COLORS.purple, values: live.days.map((day) => day.macroF1) },
      ],
    }) +
    '</figure><table><thead><tr><th>day</th><th>labelled baskets</th><th>accuracy</th><th>macro-F1</th></tr></thead><tbody>' +
    live.days.map((day) => `<tr><td>${day.day}</td><td>${Math.round(day.baskets)}</td><td>${day.accuracy.toFixed(4)}</td><td>${day.macroF1.toFixed(4)}</td></tr>`).join('') +
    '</tbody></table></section>'
  );
}
