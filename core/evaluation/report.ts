/**
 * The evaluation report: one self-contained HTML file (inline CSS and inline SVG, no script, no
 * external resource; its Content-Security-Policy forbids fetching any) with the summary, the gate,
 * the confusion matrix heatmap, per-class bars, metrics across registered versions, feature
 * importance and, for several runs, a comparison of the algorithms. Rendering is pure and
 * deterministic: the same input gives the same bytes (so the report can be a registry artifact).
 */
import { mkdir } from 'node:fs/promises';
import * as path from 'node:path';
import type { JsonValue } from '../canonical-json';
import { ProblemCollector } from '../errors';
import type { GateResult } from './gate';
import type { EvaluationMetrics } from './metrics';
import { CHART_COLORS, confusionMatrixHeatmap, escapeMarkup, groupedBarChart, horizontalBarChart, lineChart } from './svg-charts';
import { writeFileAtomically } from '../files/write-atomically';

/** The model the report is about. */
export interface ReportModel {
  /** Registry version id, e.g. `v-3f2a9c01b7de`. @default - not shown */
  readonly version?: string;
  /** Registry sequence number. @default - not shown */
  readonly sequence?: number;
  /** e.g. `gbdt`. */
  readonly algorithm: string;
  /** ISO 8601 time. @default - not shown */
  readonly createdAt?: string;
  /** Training parameters. @default - not shown */
  readonly parameters?: Readonly<Record<string, JsonValue>>;
}

/** What the model was trained and evaluated on. */
export interface ReportData {
  /** Free text, e.g. `LGSR sample, 4 weeks`. @default - not shown */
  readonly description?: string;
  /** The lake manifest version. @default - not shown */
  readonly lakeVersion?: string;
  /** SHOP_WEEK values (YYYYWW) trained on. @default - not shown */
  readonly trainingWeeks?: readonly number[];
  /** SHOP_WEEK values (YYYYWW) evaluated on. @default - not shown */
  readonly evaluationWeeks?: readonly number[];
}

/** One registered version's headline metrics (for the across-versions chart). */
export interface VersionMetrics {
  readonly version: string;
  readonly sequence?: number;
  readonly accuracy: number;
  readonly macroF1: number;
  /** Aliases pointing at the version, e.g. `production`. */
  readonly aliases?: readonly string[];
}

/**
 * The across-versions series from registry records (structurally: `ModelRegistry.list()` and
 * `ModelRegistry.aliases()` results), oldest first, each with the aliases pointing at it.
 */
export function versionMetricsFrom(
  versions: readonly { readonly id: string; readonly sequence: number; readonly metrics: { readonly accuracy: number; readonly macroF1: number } }[],
  aliases: readonly { readonly alias: string; readonly version: string }[] = [],
): VersionMetrics[] {
  return [...versions]
    .sort((a, b) => a.sequence - b.sequence)
    .map((version) => ({
      version: version.id,
      sequence: version.sequence,
      accuracy: version.metrics.accuracy,
      macroF1: version.metrics.macroF1,
      aliases: aliases.filter((alias) => alias.version === version.id).map((alias) => alias.alias).sort(),
    }));
}

export interface FeatureImportance {
  readonly name: string;
  readonly importance: number;
}

/** One trained algorithm's result (for the comparison table). */
export interface AlgorithmRun {
  readonly algorithm: string;
  readonly metrics: EvaluationMetrics;
  /** Registry version id, when registered. @default - not shown */
  readonly version?: string;
  /** Wall time of training. @default - not shown */
  readonly trainingSeconds?: number;
}

export interface ReportInput {
  /** @default 'Basket price-sensitivity model: evaluation report' */
  readonly title?: string;
  readonly model: ReportModel;
  /** @default - no data section rows */
  readonly data?: ReportData;
  /** The metrics on the held-out weeks. */
  readonly metrics: EvaluationMetrics;
  /** @default - no gate section */
  readonly gate?: GateResult;
  /** Registered versions, oldest first (this one included, when registered). @default - no chart */
  readonly versionHistory?: readonly VersionMetrics[];
  /** @default - no feature-importance chart */
  readonly featureImportance?: readonly FeatureImportance[];
  /** Every algorithm trained in this run; the comparison table appears when there are two or more. @default - none */
  readonly runs?: readonly AlgorithmRun[];
  /** Shown in the footer; leave it out to keep the report byte-for-byte reproducible. @default - not shown */
  readonly generatedAt?: string;
  /**
   * How many of the most important features to draw.
   * @default 25
   */
  readonly maximumFeatures?: number;
  /**
   * How many of the latest versions to draw in the across-versions chart.
   * @default 30
   */
  readonly maximumVersions?: number;
}

const DEFAULT_TITLE = 'Basket price-sensitivity model: evaluation report';

const STYLE = `
:root { color-scheme: light; --ink: #14213d; --muted: #55627a; --line: #d8dee9; --panel: #f6f8fb; --pass: #1b7f3b; --fail: #b3261e; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", sans-serif; color: var(--ink); background: #ffffff; }
main { max-width: 1120px; margin: 0 auto; padding: 28px 32px 48px; }
header { border-bottom: 3px solid #0072b2; margin-bottom: 20px; padding-bottom: 12px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 30px 0 10px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
.subtitle { color: var(--muted); margin: 0; }
.note { color: var(--muted); font-size: 13px; margin: 6px 0; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
caption { text-align: left; font-weight: 600; padding: 0 0 6px; }
th, td { border-bottom: 1px solid var(--line); padding: 5px 12px 5px 0; text-align: left; vertical-align: top; }
td.number, th.number { text-align: right; padding-left: 12px; }
tbody th { font-weight: 600; color: var(--muted); white-space: nowrap; }
.summary { display: grid; grid-template-columns: 1fr 1fr; gap: 12px 36px; }
.headline { display: flex; gap: 14px; margin: 8px 0 4px; flex-wrap: wrap; }
.kpi { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 10px 16px; min-width: 150px; }
.kpi .value { font-size: 24px; font-weight: 700; }
.kpi .label { color: var(--muted); font-size: 13px; }
.badge { display: inline-block; border-radius: 999px; padding: 2px 12px; font-weight: 700; color: #ffffff; letter-spacing: 0.03em; }
.badge.pass { background: var(--pass); }
.badge.fail { background: var(--fail); }
.result-pass { color: var(--pass); font-weight: 600; }
.result-fail { color: var(--fail); font-weight: 600; }
.side-by-side { display: flex; gap: 36px; align-items: flex-start; flex-wrap: wrap; }
.best { font-weight: 700; }
.current td, .current th { background: #eef5fb; }
svg.chart { display: block; max-width: 100%; height: auto; font-family: inherit; }
svg .axis-title { font-size: 14px; font-weight: 600; fill: var(--ink); }
svg .axis-label { font-size: 13px; fill: var(--ink); }
svg .tick, svg .legend, svg .bar-value { font-size: 12px; fill: var(--muted); }
svg .cell-count { font-size: 20px; font-weight: 700; }
svg .cell-share { font-size: 13px; }
svg .grid { stroke: #e6eaf0; stroke-width: 1; }
svg .axis { stroke: #8a9bb0; stroke-width: 1; }
svg .highlight { fill: #fff4d6; }
footer { margin-top: 36px; color: var(--muted); font-size: 12px; }
@media print { main { padding: 0; } h2 { break-after: avoid; } svg.chart { break-inside: avoid; } }
`;

const fixed = (value: number, digits = 4): string => (Number.isFinite(value) ? value.toFixed(digits) : '–');
const signed = (value: number): string => `${value >= 0 ? '+' : '−'}${Math.abs(value).toFixed(4)}`;
const integer = (value: number): string => value.toLocaleString('en-US');

/** `200607–200610 (4 weeks)`; weeks need not be contiguous. */
export function describeWeeks(weeks: readonly number[]): string {
  if (weeks.length === 0) return 'none';
  const sorted = [...new Set(weeks)].sort((a, b) => a - b);
  const first = sorted[0];
  const last = sorted[sorted.length - 1];
  return `${first === last ? first : `${first}–${last}`} (${sorted.length} week${sorted.length === 1 ? '' : 's'})`;
}

function row(header: string, value: string): string {
  return `<tr><th scope="row">${escapeMarkup(header)}</th><td>${value}</td></tr>`;
}

function summarySection(input: ReportInput): string {
  const { model, data, metrics, gate } = input;
  const modelRows: string[] = [];
  if (model.version !== undefined) modelRows.push(row('Version', `<code>${escapeMarkup(model.version)}</code>`));
  if (model.sequence !== undefined) modelRows.push(row('Sequence', `#${model.sequence}`));
  modelRows.push(row('Algorithm', escapeMarkup(model.algorithm)));
  if (model.createdAt !== undefined) modelRows.push(row('Created', escapeMarkup(model.createdAt)));
  if (model.parameters !== undefined && Object.keys(model.parameters).length > 0) {
    const parameters = Object.entries(model.parameters)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, value]) => `${escapeMarkup(name)}=${escapeMarkup(JSON.stringify(value))}`)
      .join(', ');
    modelRows.push(row('Parameters', parameters));
  }
  if (gate) modelRows.push(row('Gate', gate.passed ? '<span class="badge pass">PASSED</span>' : '<span class="badge fail">FAILED</span>'));

  const dataRows: string[] = [];
  if (data?.description !== undefined) dataRows.push(row('Source', escapeMarkup(data.description)));
  if (data?.lakeVersion !== undefined) dataRows.push(row('Lake version', `<code>${escapeMarkup(data.lakeVersion)}</code>`));
  if (data?.trainingWeeks !== undefined) dataRows.push(row('Training weeks', escapeMarkup(describeWeeks(data.trainingWeeks))));
  if (data?.evaluationWeeks !== undefined) dataRows.push(row('Evaluation weeks', escapeMarkup(describeWeeks(data.evaluationWeeks))));
  dataRows.push(row('Baskets scored', integer(metrics.rows)));
  dataRows.push(row('Excluded (XX, unclassified)', integer(metrics.excluded.XX)));

  const kpis = [
    ['Accuracy', fixed(metrics.accuracy)],
    ['Macro-F1', fixed(metrics.macroF1)],
    ['Log-loss', fixed(metrics.logLoss)],
  ];
  if (metrics.lift) {
    kpis.push([`Accuracy lift vs ${metrics.lift.baseline.name}`, signed(metrics.lift.accuracyDelta)]);
    kpis.push([`Macro-F1 lift vs ${metrics.lift.baseline.name}`, signed(metrics.lift.macroF1Delta)]);
  }
  return (
    '<section aria-labelledby="summary-heading"><h2 id="summary-heading">Summary</h2>' +
    `<div class="headline">${kpis.map(([label, value]) => `<div class="kpi"><div class="value">${value}</div><div class="label">${escapeMarkup(label)}</div></div>`).join('')}</div>` +
    '<div class="summary">' +
    `<table><caption>Model</caption><tbody>${modelRows.join('')}</tbody></table>` +
    `<table><caption>Data</caption><tbody>${dataRows.join('')}</tbody></table>` +
    '</div>' +
    (metrics.lift
      ? `<p class="note">Baseline <strong>${escapeMarkup(metrics.lift.baseline.name)}</strong>: accuracy ${fixed(metrics.lift.baseline.accuracy)}, macro-F1 ${fixed(metrics.lift.baseline.macroF1)}.</p>`
      : '') +
    '</section>'
  );
}

function gateSection(gate: GateResult): string {
  const rows = gate.checks
    .map(
      (check) =>
        `<tr><td>${escapeMarkup(check.id)}</td><td class="number">${fixed(check.actual)}</td><td class="number">≥ ${fixed(check.threshold)}</td>` +
        `<td class="${check.passed ? 'result-pass' : 'result-fail'}">${check.passed ? 'pass' : 'FAIL'}</td><td>${escapeMarkup(check.message)}</td></tr>`,
    )
    .join('');
  return (
    '<section aria-labelledby="gate-heading"><h2 id="gate-heading">Gate</h2>' +
    `<p>${gate.passed ? '<span class="badge pass">PASSED</span>' : '<span class="badge fail">FAILED</span>'} ` +
    `${gate.comparedWithChampion ? 'KPI floor and comparison with the champion.' : 'KPI floor only (no champion to compare with).'}</p>` +
    (gate.reasons.length > 0 ? `<ul>${gate.reasons.map((reason) => `<li class="result-fail">${escapeMarkup(reason)}</li>`).join('')}</ul>` : '') +
    '<table><caption>Checks</caption><thead><tr><th scope="col">Check</th><th scope="col" class="number">Actual</th>' +
    `<th scope="col" class="number">Threshold</th><th scope="col">Result</th><th scope="col">Detail</th></tr></thead><tbody>${rows}</tbody></table>` +
    '</section>'
  );
}

function classesSection(metrics: EvaluationMetrics): string {
  const labels = metrics.confusionMatrix.labels;
  const classRows = labels
    .map((label) => {
      const classMetrics = metrics.perClass[label];
      return (
        `<tr><th scope="row">${escapeMarkup(label)}</th><td class="number">${fixed(classMetrics.precision)}</td><td class="number">${fixed(classMetrics.recall)}</td>` +
        `<td class="number">${fixed(classMetrics.f1)}</td><td class="number">${integer(classMetrics.support)}</td></tr>`
      );
    })
    .join('');
  const table =
    '<table><caption>Per class</caption><thead><tr><th scope="col">Class</th><th scope="col" class="number">Precision</th>' +
    `<th scope="col" class="number">Recall</th><th scope="col" class="number">F1</th><th scope="col" class="number">Support</th></tr></thead><tbody>${classRows}</tbody></table>`;
  const bars = groupedBarChart({
    id: 'per-class-bars',
    title: 'Precision, recall and F1 per class',
    description: labels
      .map((label) => `${label}: precision ${fixed(metrics.perClass[label].precision, 3)}, recall ${fixed(metrics.perClass[label].recall, 3)}, F1 ${fixed(metrics.perClass[label].f1, 3)}.`)
      .join(' '),
    series: [
      { name: 'precision', color: CHART_COLORS.blue },
      { name: 'recall', color: CHART_COLORS.orange },
      { name: 'F1', color: CHART_COLORS.green },
    ],
    groups: labels.map((label) => {
      const { precision, recall, f1 } = metrics.perClass[label];
      return { label, values: [precision, recall, f1] };
    }),
  });
  return (
    '<section aria-labelledby="confusion-heading"><h2 id="confusion-heading">Confusion matrix</h2>' +
    `<div class="side-by-side"><figure>${confusionMatrixHeatmap(metrics.confusionMatrix)}</figure><div>${table}</div></div></section>` +
    `<section aria-labelledby="per-class-heading"><h2 id="per-class-heading">Precision, recall and F1 per class</h2><figure>${bars}</figure></section>`
  );
}

function versionsSection(history: readonly VersionMetrics[], current: string | undefined, maximum: number): string {
  const shown = history.slice(-maximum);
  const heading = '<h2 id="versions-heading">Metrics across registered versions</h2>';
  if (shown.length === 0) return `<section aria-labelledby="versions-heading">${heading}<p class="note">No registered versions yet.</p></section>`;
  const labels = shown.map((entry, index) => (entry.sequence !== undefined ? `#${entry.sequence}` : `${index + 1}`));
  const highlight = current === undefined ? -1 : shown.findIndex((entry) => entry.version === current);
  const chart = lineChart({
    id: 'versions-chart',
    title: 'Accuracy and macro-F1 per registered version',
    description: shown
      .map((entry, index) => `${labels[index]} ${entry.version}${entry.aliases?.length ? ` (${entry.aliases.join(', ')})` : ''}: accuracy ${fixed(entry.accuracy, 3)}, macro-F1 ${fixed(entry.macroF1, 3)}.`)
      .join(' '),
    labels,
    sublabels: shown.map((entry) => (entry.aliases?.length ? entry.aliases.join(', ') : entry.version.slice(0, 8))),
    highlight: highlight >= 0 ? highlight : undefined,
    series: [
      { name: 'accuracy', color: CHART_COLORS.blue, values: shown.map((entry) => entry.accuracy) },
      { name: 'macro-F1', color: CHART_COLORS.vermillion, values: shown.map((entry) => entry.macroF1) },
    ],
  });
  const note =
    history.length > shown.length ? `<p class="note">The latest ${shown.length} of ${history.length} versions.</p>` : '';
  return `<section aria-labelledby="versions-heading">${heading}${note}<figure>${chart}</figure></section>`;
}

function featuresSection(features: readonly FeatureImportance[], maximum: number): string {
  const top = [...features].sort((a, b) => b.importance - a.importance || a.name.localeCompare(b.name)).slice(0, maximum);
  const chart = horizontalBarChart({
    id: 'feature-importance',
    title: `Feature importance (top ${top.length} of ${features.length})`,
    description: top.map((feature) => `${feature.name}: ${feature.importance.toPrecision(4)}.`).join(' '),
    color: CHART_COLORS.green,
    items: top.map((feature) => ({ label: feature.name, value: feature.importance })),
  });
  return (
    '<section aria-labelledby="features-heading"><h2 id="features-heading">Feature importance</h2>' +
    `<p class="note">Top ${top.length} of ${features.length} features, bars scaled to the largest.</p><figure>${chart}</figure></section>`
  );
}

function comparisonSection(runs: readonly AlgorithmRun[], current: ReportModel): string {
  const labels = runs[0].metrics.confusionMatrix.labels;
  const best = (pick: (run: AlgorithmRun) => number, lowerIsBetter = false): number =>
    runs.map(pick).reduce((winner, value) => (lowerIsBetter ? Math.min(winner, value) : Math.max(winner, value)));
  const bestAccuracy = best((run) => run.metrics.accuracy);
  const bestMacroF1 = best((run) => run.metrics.macroF1);
  const bestLogLoss = best((run) => run.metrics.logLoss, true);
  const cell = (value: number, winner: number): string => `<td class="number${value === winner ? ' best' : ''}">${fixed(value)}</td>`;
  const showTime = runs.some((run) => run.trainingSeconds !== undefined);
  const showVersion = runs.some((run) => run.version !== undefined);
  const rows = runs
    .map((run) => {
      const sameVersion = current.version === undefined || run.version === undefined || run.version === current.version;
      const isCurrent = run.algorithm === current.algorithm && sameVersion;
      return (
        `<tr${isCurrent ? ' class="current"' : ''}><th scope="row">${escapeMarkup(run.algorithm)}${isCurrent ? ' (this report)' : ''}</th>` +
        (showVersion ? `<td><code>${escapeMarkup(run.version ?? '–')}</code></td>` : '') +
        cell(run.metrics.accuracy, bestAccuracy) +
        cell(run.metrics.macroF1, bestMacroF1) +
        cell(run.metrics.logLoss, bestLogLoss) +
        labels.map((label) => `<td class="number">${fixed(run.metrics.perClass[label]?.f1 ?? Number.NaN)}</td>`).join('') +
        (showTime ? `<td class="number">${run.trainingSeconds !== undefined ? run.trainingSeconds.toFixed(1) : '–'}</td>` : '') +
        '</tr>'
      );
    })
    .join('');
  const header =
    '<tr><th scope="col">Algorithm</th>' +
    (showVersion ? '<th scope="col">Version</th>' : '') +
    '<th scope="col" class="number">Accuracy</th><th scope="col" class="number">Macro-F1</th><th scope="col" class="number">Log-loss</th>' +
    labels.map((label) => `<th scope="col" class="number">F1 ${escapeMarkup(label)}</th>`).join('') +
    (showTime ? '<th scope="col" class="number">Training (s)</th>' : '') +
    '</tr>';
  return (
    '<section aria-labelledby="comparison-heading"><h2 id="comparison-heading">Algorithms compared</h2>' +
    `<table><caption>Every algorithm trained in this run, on the same held-out weeks (best in bold)</caption><thead>${header}</thead><tbody>${rows}</tbody></table></section>`
  );
}

function validate(input: ReportInput): { maximumFeatures: number; maximumVersions: number } {
  const problems = new ProblemCollector('report input');
  const maximumFeatures = input.maximumFeatures ?? 25;
  const maximumVersions = input.maximumVersions ?? 30;
  problems.check(Number.isInteger(maximumFeatures) && maximumFeatures > 0, `maximumFeatures must be a positive integer, got ${maximumFeatures}`);
  problems.check(Number.isInteger(maximumVersions) && maximumVersions > 0, `maximumVersions must be a positive integer, got ${maximumVersions}`);
  problems.check(typeof input.model?.algorithm === 'string' && input.model.algorithm.length > 0, 'model.algorithm must be a non-empty string');
  const labels = input.metrics?.confusionMatrix?.labels ?? [];
  problems.check(labels.length > 0, 'metrics.confusionMatrix.labels must list the classes');
  for (const label of labels) problems.check(input.metrics.perClass?.[label] !== undefined, `metrics.perClass has no entry for class ${label}`);
  for (const feature of input.featureImportance ?? []) {
    problems.check(Number.isFinite(feature.importance) && feature.importance >= 0, `importance of feature ${feature.name} must be a finite number ≥ 0, got ${feature.importance}`);
  }
  problems.throwIfAny();
  return { maximumFeatures, maximumVersions };
}

/**
 * Renders the report as one self-contained HTML document.
 * @throws InvalidOptionsError listing every problem of the input
 */
export function renderReport(input: ReportInput): string {
  const { maximumFeatures, maximumVersions } = validate(input);
  const title = input.title ?? DEFAULT_TITLE;
  const subtitle = [
    input.model.version !== undefined ? `version ${input.model.version}` : undefined,
    input.model.sequence !== undefined ? `#${input.model.sequence}` : undefined,
    input.model.algorithm,
    `accuracy ${fixed(input.metrics.accuracy)}`,
    `macro-F1 ${fixed(input.metrics.macroF1)}`,
  ]
    .filter((part) => part !== undefined)
    .join(' · ');
  const sections = [summarySection(input)];
  if (input.gate) sections.push(gateSection(input.gate));
  sections.push(classesSection(input.metrics));
  if (input.versionHistory !== undefined) sections.push(versionsSection(input.versionHistory, input.model.version, maximumVersions));
  if (input.featureImportance !== undefined && input.featureImportance.length > 0) {
    sections.push(featuresSection(input.featureImportance, maximumFeatures));
  }
  if (input.runs !== undefined && input.runs.length > 1) sections.push(comparisonSection(input.runs, input.model));
  return htmlDocument({
    title: `${title}${input.model.version ? ` (${input.model.version})` : ''}`,
    heading: title,
    subtitle,
    sections,
    footer: `retail-mlops evaluation report${input.generatedAt ? ` · generated ${input.generatedAt}` : ''} · self-contained: no scripts, no external resources.`,
  });
}

/**
 * A self-contained report page (the evaluation and drift reports): inline style, no scripts, a CSP that
 * lets nothing be fetched. `sections` are HTML; every other field is text.
 */
export function htmlDocument(page: {
  readonly title: string;
  readonly heading: string;
  readonly subtitle: string;
  readonly sections: readonly string[];
  readonly footer: string;
}): string {
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    // Nothing may be fetched: only the inline style is allowed, and no script at all.
    '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; style-src \'unsafe-inline\'; img-src data:">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeMarkup(page.title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    '<main>',
    `<header><h1>${escapeMarkup(page.heading)}</h1><p class="subtitle">${escapeMarkup(page.subtitle)}</p></header>`,
    ...page.sections,
    `<footer>${escapeMarkup(page.footer)}</footer>`,
    '</main>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

/**
 * Renders the report and writes it to `file` atomically (a temporary file renamed into place), creating
 * the directory when missing. Returns the HTML written.
 */
export async function writeReport(file: string, input: ReportInput): Promise<string> {
  const html = renderReport(input);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFileAtomically(file, html);
  return html;
}
