/**
 * The charts of the evaluation report as inline SVG strings: no library, no script, no external
 * resource. Every chart is an accessible image (`role="img"` labelled by its own `<title>` and
 * `<desc>`), and every mark carries a `<title>` with its exact value (a tooltip, and text for screen
 * readers). Colours come from the Okabe–Ito palette (safe for colour-blind readers).
 */
import type { ConfusionMatrix } from './metrics';

/** Okabe–Ito colours used by the charts. */
export const CHART_COLORS = {
  blue: '#0072b2',
  orange: '#e69f00',
  green: '#009e73',
  vermillion: '#d55e00',
  purple: '#cc79a7',
  sky: '#56b4e9',
} as const;

/** Escapes text for HTML and XML content and attribute values. */
export function escapeMarkup(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

const HEATMAP_STOPS: readonly (readonly [number, readonly [number, number, number]])[] = [
  [0, [247, 251, 255]],
  [0.25, [198, 219, 239]],
  [0.5, [107, 174, 214]],
  [0.75, [33, 113, 181]],
  [1, [8, 48, 107]],
];

/** The heatmap colour (light to dark blue, `#rrggbb`) of a share between 0 and 1. */
export function heatmapColor(fraction: number): string {
  const clamped = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0));
  let index = 1;
  while (index < HEATMAP_STOPS.length - 1 && clamped > HEATMAP_STOPS[index][0]) index++;
  const [lowAt, low] = HEATMAP_STOPS[index - 1];
  const [highAt, high] = HEATMAP_STOPS[index];
  const weight = (clamped - lowAt) / (highAt - lowAt);
  return `#${low.map((channel, c) => Math.round(channel + (high[c] - channel) * weight).toString(16).padStart(2, '0')).join('')}`;
}

/** Text on a heatmap cell: white on the dark half of the scale. */
function heatmapTextColor(fraction: number): string {
  return fraction > 0.55 ? '#ffffff' : '#0b1f33';
}

/** Cuts a label to `length` characters with an ellipsis (the full text stays in the mark's title). */
const shorten = (text: string, length: number): string => (text.length > length ? `${text.slice(0, length - 1)}…` : text);
const percent = (value: number): string => `${(value * 100).toFixed(1)}%`;
const decimal = (value: number, digits = 3): string => value.toFixed(digits);
const count = (value: number): string => value.toLocaleString('en-US');

/** Opening of an accessible SVG image labelled by its title and description. */
function svgOpen(id: string, width: number, height: number, title: string, description: string): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="${id}" role="img" aria-labelledby="${id}-title ${id}-desc" ` +
    `viewBox="0 0 ${width} ${height}" width="${width}" height="${height}">` +
    `<title id="${id}-title">${escapeMarkup(title)}</title><desc id="${id}-desc">${escapeMarkup(description)}</desc>`
  );
}

/**
 * The confusion matrix as a heatmap: rows are true classes, columns predicted classes; each cell
 * shows its count and its share of the row (the true class), and is coloured by that share.
 * Cells carry `data-true`, `data-predicted`, `data-count` and `data-fraction` attributes.
 */
export function confusionMatrixHeatmap(confusion: ConfusionMatrix, id = 'confusion-matrix'): string {
  const { labels, matrix } = confusion;
  const cell = 104;
  const left = 110;
  const top = 74;
  const gridSize = cell * labels.length;
  const legendTop = top + gridSize + 26;
  const width = left + gridSize + 20;
  const height = legendTop + 48;
  const rowTotals = matrix.map((row) => row.reduce((sum, value) => sum + value, 0));
  const description =
    'Rows are the true class, columns the predicted class; each cell shows the number of baskets and its share of the true class, ' +
    'and is coloured by that share (darker is larger). ' +
    labels.map((label, t) => `True ${label}: ${labels.map((predicted, p) => `${count(matrix[t][p])} predicted ${predicted}`).join(', ')}.`).join(' ');

  const parts: string[] = [svgOpen(id, width, height, 'Confusion matrix (rows: true class, columns: predicted class)', description)];
  parts.push(`<text class="axis-title" x="${left + gridSize / 2}" y="18" text-anchor="middle">Predicted class</text>`);
  parts.push(`<text class="axis-title" x="18" y="${top + gridSize / 2}" text-anchor="middle" transform="rotate(-90 18 ${top + gridSize / 2})">True class</text>`);
  labels.forEach((label, index) => {
    parts.push(`<text class="axis-label" x="${left + index * cell + cell / 2}" y="${top - 12}" text-anchor="middle">${escapeMarkup(label)}</text>`);
    parts.push(`<text class="axis-label" x="${left - 12}" y="${top + index * cell + cell / 2 + 5}" text-anchor="end">${escapeMarkup(label)}</text>`);
  });
  matrix.forEach((row, t) => {
    row.forEach((value, p) => {
      const fraction = rowTotals[t] > 0 ? value / rowTotals[t] : 0;
      const x = left + p * cell;
      const y = top + t * cell;
      const fill = heatmapColor(fraction);
      const ink = heatmapTextColor(fraction);
      parts.push(
        `<g class="heatmap-cell-group"><title>True ${escapeMarkup(labels[t])}, predicted ${escapeMarkup(labels[p])}: ${count(value)} baskets (${percent(fraction)} of true ${escapeMarkup(labels[t])})</title>` +
          `<rect class="heatmap-cell" x="${x}" y="${y}" width="${cell}" height="${cell}" fill="${fill}" stroke="#ffffff" stroke-width="2" ` +
          `data-true="${escapeMarkup(labels[t])}" data-predicted="${escapeMarkup(labels[p])}" data-count="${value}" data-fraction="${fraction.toFixed(6)}"/>` +
          `<text class="cell-count" x="${x + cell / 2}" y="${y + cell / 2 - 2}" text-anchor="middle" fill="${ink}">${count(value)}</text>` +
          `<text class="cell-share" x="${x + cell / 2}" y="${y + cell / 2 + 18}" text-anchor="middle" fill="${ink}">${percent(fraction)}</text></g>`,
      );
    });
  });
  // Legend: the colour scale from 0% to 100% of the true class.
  const legendWidth = gridSize;
  parts.push(
    `<defs><linearGradient id="${id}-scale" x1="0" x2="1" y1="0" y2="0">` +
      HEATMAP_STOPS.map(([at, rgb]) => `<stop offset="${at}" stop-color="rgb(${rgb.join(',')})"/>`).join('') +
      '</linearGradient></defs>',
  );
  parts.push(`<rect x="${left}" y="${legendTop}" width="${legendWidth}" height="12" fill="url(#${id}-scale)" stroke="#8a9bb0" stroke-width="0.5"/>`);
  parts.push(`<text class="legend" x="${left}" y="${legendTop + 28}">0%</text>`);
  parts.push(`<text class="legend" x="${left + legendWidth / 2}" y="${legendTop + 28}" text-anchor="middle">share of the true class</text>`);
  parts.push(`<text class="legend" x="${left + legendWidth}" y="${legendTop + 28}" text-anchor="end">100%</text>`);
  parts.push('</svg>');
  return parts.join('');
}

/** One series of a chart. */
export interface ChartSeries {
  readonly name: string;
  readonly color: string;
}

export interface GroupedBarChartInput {
  readonly id: string;
  readonly title: string;
  readonly description: string;
  readonly series: readonly ChartSeries[];
  /** One group per category; `values[i]` belongs to `series[i]`, between 0 and 1. */
  readonly groups: readonly { readonly label: string; readonly values: readonly number[] }[];
}

function legend(series: readonly ChartSeries[], x: number, y: number): string {
  return series
    .map(
      (item, index) =>
        `<g class="legend-item"><rect x="${x + index * 120}" y="${y - 10}" width="12" height="12" fill="${item.color}"/>` +
        `<text class="legend" x="${x + index * 120 + 18}" y="${y}">${escapeMarkup(item.name)}</text></g>`,
    )
    .join('');
}

/** Vertical bars grouped by category on a 0–1 scale (per-class precision, recall, F1). */
export function groupedBarChart(input: GroupedBarChartInput): string {
  const left = 48;
  const top = 40;
  const plotHeight = 220;
  const barWidth = 30;
  const groupGap = 40;
  const clusterWidth = input.series.length * barWidth;
  const width = Math.max(left + input.groups.length * (clusterWidth + groupGap) + 20, left + input.series.length * 120 + 20, 560);
  const groupWidth = (width - left - 20) / Math.max(1, input.groups.length);
  const height = top + plotHeight + 40;
  const y = (value: number): number => top + plotHeight * (1 - Math.min(1, Math.max(0, value)));
  const parts: string[] = [svgOpen(input.id, width, height, input.title, input.description)];
  parts.push(legend(input.series, left, 16));
  for (let tick = 0; tick <= 5; tick++) {
    const value = tick / 5;
    parts.push(`<line class="grid" x1="${left}" x2="${width - 10}" y1="${y(value)}" y2="${y(value)}"/>`);
    parts.push(`<text class="tick" x="${left - 6}" y="${y(value) + 4}" text-anchor="end">${value.toFixed(1)}</text>`);
  }
  input.groups.forEach((group, groupIndex) => {
    const groupLeft = left + groupIndex * groupWidth + (groupWidth - clusterWidth) / 2;
    group.values.forEach((value, seriesIndex) => {
      const series = input.series[seriesIndex];
      const x = groupLeft + seriesIndex * barWidth;
      parts.push(
        `<g class="bar"><title>${escapeMarkup(group.label)} ${escapeMarkup(series.name)}: ${decimal(value, 4)}</title>` +
          `<rect x="${x + 2}" y="${y(value)}" width="${barWidth - 4}" height="${Math.max(0, top + plotHeight - y(value))}" fill="${series.color}"/>` +
          `<text class="bar-value" x="${x + barWidth / 2}" y="${y(value) - 4}" text-anchor="middle">${decimal(value, 2)}</text></g>`,
      );
    });
    parts.push(
      `<text class="axis-label" x="${groupLeft + clusterWidth / 2}" y="${top + plotHeight + 20}" text-anchor="middle">${escapeMarkup(group.label)}</text>`,
    );
  });
  parts.push(`<line class="axis" x1="${left}" x2="${width - 10}" y1="${top + plotHeight}" y2="${top + plotHeight}"/>`);
  parts.push('</svg>');
  return parts.join('');
}

export interface LineChartInput {
  readonly id: string;
  readonly title: string;
  readonly description: string;
  /** One label per point on the x axis (e.g. `#3`). */
  readonly labels: readonly string[];
  /** A second line under each label (e.g. the version id). */
  readonly sublabels?: readonly string[];
  /** Index of the point to highlight (the version the report is about). */
  readonly highlight?: number;
  /** `values[i]` belongs to `labels[i]`, between 0 and 1. */
  readonly series: readonly (ChartSeries & { readonly values: readonly number[] })[];
}

/** Lines with markers over categories on a zoomed 0–1 scale (metrics across model versions). */
export function lineChart(input: LineChartInput): string {
  const left = 52;
  const top = 40;
  const plotHeight = 220;
  const pointCount = Math.max(1, input.labels.length);
  const width = Math.max(left + pointCount * (input.labels.length > 12 ? 52 : 72) + 20, left + input.series.length * 120 + 20, 640);
  const step = (width - left - 20) / pointCount;
  const height = top + plotHeight + 56;
  const values = input.series.flatMap((series) => series.values).filter((value) => Number.isFinite(value));
  const low = Math.max(0, Math.floor(((values.length ? Math.min(...values) : 0) - 0.02) * 20) / 20);
  const high = Math.min(1, Math.ceil(((values.length ? Math.max(...values) : 1) + 0.02) * 20) / 20);
  const span = Math.max(high - low, 0.05);
  const y = (value: number): number => top + plotHeight * (1 - (value - low) / span);
  const x = (index: number): number => left + step / 2 + index * step;
  const parts: string[] = [svgOpen(input.id, width, height, input.title, input.description)];
  parts.push(legend(input.series, left, 16));
  const ticks = 5;
  for (let tick = 0; tick <= ticks; tick++) {
    const value = low + (span * tick) / ticks;
    parts.push(`<line class="grid" x1="${left}" x2="${width - 10}" y1="${y(value)}" y2="${y(value)}"/>`);
    parts.push(`<text class="tick" x="${left - 6}" y="${y(value) + 4}" text-anchor="end">${value.toFixed(3)}</text>`);
  }
  if (input.highlight !== undefined && input.highlight >= 0 && input.highlight < input.labels.length) {
    parts.push(`<rect class="highlight" x="${x(input.highlight) - step / 2 + 4}" y="${top}" width="${step - 8}" height="${plotHeight}"/>`);
  }
  input.labels.forEach((label, index) => {
    parts.push(`<text class="axis-label" x="${x(index)}" y="${top + plotHeight + 18}" text-anchor="middle">${escapeMarkup(label)}</text>`);
    const sublabel = input.sublabels?.[index];
    if (sublabel) parts.push(`<text class="tick" x="${x(index)}" y="${top + plotHeight + 34}" text-anchor="middle">${escapeMarkup(sublabel)}</text>`);
  });
  for (const series of input.series) {
    const points = series.values.map((value, index) => [x(index), y(value)] as const);
    if (points.length > 1) {
      parts.push(`<polyline fill="none" stroke="${series.color}" stroke-width="2.5" points="${points.map(([px, py]) => `${px},${py}`).join(' ')}"/>`);
    }
    series.values.forEach((value, index) => {
      parts.push(
        `<g class="point"><title>${escapeMarkup(input.labels[index])} ${escapeMarkup(series.name)}: ${decimal(value, 4)}</title>` +
          `<circle cx="${x(index)}" cy="${y(value)}" r="5" fill="${series.color}" stroke="#ffffff" stroke-width="1.5"/></g>`,
      );
    });
  }
  parts.push(`<line class="axis" x1="${left}" x2="${width - 10}" y1="${top + plotHeight}" y2="${top + plotHeight}"/>`);
  parts.push('</svg>');
  return parts.join('');
}

export interface HorizontalBarChartInput {
  readonly id: string;
  readonly title: string;
  readonly description: string;
  readonly color: string;
  /** Drawn top to bottom in the given order; values ≥ 0; an item's own colour wins over `color`. */
  readonly items: readonly { readonly label: string; readonly value: number; readonly color?: string }[];
}

/** Horizontal bars scaled to the largest value (feature importance). */
export function horizontalBarChart(input: HorizontalBarChartInput): string {
  const labelWidth = 330;
  const barArea = 560;
  const rowHeight = 24;
  const top = 10;
  const width = labelWidth + barArea + 90;
  const height = top + Math.max(1, input.items.length) * rowHeight + 10;
  const largest = Math.max(0, ...input.items.map((item) => item.value));
  const parts: string[] = [svgOpen(input.id, width, height, input.title, input.description)];
  input.items.forEach((item, index) => {
    const barLength = largest > 0 ? (Math.max(0, item.value) / largest) * barArea : 0;
    const y = top + index * rowHeight;
    parts.push(
      `<g class="bar"><title>${escapeMarkup(item.label)}: ${item.value.toPrecision(4)}</title>` +
        `<text class="axis-label" x="${labelWidth - 8}" y="${y + rowHeight / 2 + 5}" text-anchor="end">${escapeMarkup(shorten(item.label, 40))}</text>` +
        `<rect x="${labelWidth}" y="${y + 3}" width="${barLength}" height="${rowHeight - 6}" fill="${item.color ?? input.color}"/>` +
        `<text class="bar-value" x="${labelWidth + barLength + 6}" y="${y + rowHeight / 2 + 5}">${Number(item.value.toPrecision(3))}</text></g>`,
    );
  });
  parts.push(`<line class="axis" x1="${labelWidth}" x2="${labelWidth}" y1="${top}" y2="${height - 10}"/>`);
  parts.push('</svg>');
  return parts.join('');
}
