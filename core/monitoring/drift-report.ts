import { DRIFT_PSI_THRESHOLD, type DriftResult } from './drift';
import { htmlDocument } from '../evaluation/report';
import { escapeMarkup, groupedBarChart, horizontalBarChart } from '../evaluation/svg-charts';

export interface DriftReportInput {
  readonly drift: DriftResult;
  readonly modelVersion: string;
  /** What the reference is, e.g. `the model's evaluation weeks 200611 (3,966 baskets)`. */
  readonly reference: string;
  /** What is compared with it, e.g. `12,004 predictions logged 2026-11-20 … 2026-11-25`. */
  readonly current: string;
  readonly generatedAt?: string;
}

/** Features shown in the chart and the table. */
const SHOWN = 20;

/** The drift report: headline, PSI of the most shifted features, predicted classes then and now. */
export function renderDriftReport(input: DriftReportInput): string {
  const { drift } = input;
  const verdict =
    drift.drifted.length > 0
      ? `${drift.drifted.length} above PSI ${DRIFT_PSI_THRESHOLD}: ${drift.drifted.slice(0, 5).join(', ')}${drift.drifted.length > 5 ? ', …' : ''}: consider retraining`
      : `no feature above PSI ${DRIFT_PSI_THRESHOLD}`;
  const kpis: Array<[string, string]> = [
    ['Largest feature PSI', drift.maxPsi.toFixed(3)],
    ['Predicted-class PSI', drift.classes.psi.toFixed(3)],
    ['Reference baskets', drift.referenceRows.toLocaleString('en-US')],
    ['Current baskets', drift.currentRows.toLocaleString('en-US')],
  ];
  const shown = drift.features.slice(0, SHOWN);
  const summary =
    '<section aria-labelledby="summary-heading"><h2 id="summary-heading">Summary</h2>' +
    `<div class="headline">${kpis.map(([label, value]) => `<div class="kpi"><div class="value">${value}</div><div class="label">${escapeMarkup(label)}</div></div>`).join('')}</div>` +
    `<p class="note"><strong>${escapeMarkup(verdict)}</strong>. Reference: ${escapeMarkup(input.reference)}. Current: ${escapeMarkup(input.current)}. ` +
    'PSI below 0.1 is stable, 0.1–0.25 a moderate shift, above 0.25 a shift worth retraining for.</p></section>';
  const features =
    `<section aria-labelledby="features-heading"><h2 id="features-heading">Feature drift (PSI, the ${shown.length} largest)</h2><figure>` +
    horizontalBarChart({
      id: 'feature-psi',
      title: 'Population stability index per feature',
      description: 'PSI of each feature between the reference baskets and the current ones, largest first',
      color: '#d55e00',
      items: shown.map((item) => ({ label: item.feature, value: item.psi })),
    }) +
    '</figure><table><thead><tr><th>feature</th><th>PSI</th><th>mean then</th><th>mean now</th></tr></thead><tbody>' +
    shown
      .map(
        (item) =>
          `<tr><td>${escapeMarkup(item.feature)}</td><td>${item.psi.toFixed(4)}</td><td>${item.referenceMean.toPrecision(4)}</td><td>${item.currentMean.toPrecision(4)}</td></tr>`,
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
        { name: 'reference', color: '#0072b2' },
        { name: 'current', color: '#e69f00' },
      ],
      groups: drift.classes.labels.map((label, index) => ({ label, values: [drift.classes.reference[index], drift.classes.current[index]] })),
    }) +
    '</figure></section>';
  return htmlDocument({
    title: `Drift report (${input.modelVersion})`,
    heading: 'Basket price-sensitivity model: drift report',
    subtitle: `version ${input.modelVersion} · largest PSI ${drift.maxPsi.toFixed(3)}${drift.maxPsiFeature ? ` (${drift.maxPsiFeature})` : ''}`,
    sections: [summary, features, classes],
    footer: `retail-mlops drift report${input.generatedAt ? ` · generated ${input.generatedAt}` : ''} · self-contained: no scripts, no external resources.`,
  });
}
