/**
 * Monthly cost estimates as lines with their arithmetic (providers/aws/infra/cost-estimate.ts and
 * providers/azure/infra/cost-estimate.ts build them; the providers' READMEs hold the rendered tables).
 */

/** One component of a monthly bill, in USD. */
export interface CostLine {
  readonly component: string;
  readonly arithmetic: string;
  readonly onDemand: number;
  /** With spot / low-priority capacity where the sizing allows it. */
  readonly withSpot: number;
}

const TOTAL = '**total**';
const round = (value: number): number => Math.round(value * 100) / 100;

/** Collects lines (rounded to cents) and closes them with the total line. */
export class CostLines {
  private readonly lines: CostLine[] = [];

  add(component: string, arithmetic: string, onDemand: number, withSpot = onDemand): void {
    this.lines.push({ component, arithmetic, onDemand: round(onDemand), withSpot: round(withSpot) });
  }

  /** The lines and, last, their total. */
  withTotal(): CostLine[] {
    const total = (key: 'onDemand' | 'withSpot'): number => round(this.lines.reduce((sum, line) => sum + line[key], 0));
    return [...this.lines, { component: TOTAL, arithmetic: '', onDemand: total('onDemand'), withSpot: total('withSpot') }];
  }
}

/** The Markdown table of the lines; `spotHeading` names the second price column. */
export function renderCostTable(lines: readonly CostLine[], headings: { readonly onDemand: string; readonly withSpot: string }): string {
  const money = (value: number): string => value.toFixed(2);
  const rows = lines.map((line) =>
    line.component === TOTAL
      ? `| ${TOTAL} | | **${money(line.onDemand)}** | **${money(line.withSpot)}** |`
      : `| ${line.component} | ${line.arithmetic} | ${money(line.onDemand)} | ${money(line.withSpot)} |`,
  );
  return [`| component | arithmetic | ${headings.onDemand} | ${headings.withSpot} |`, '| --- | --- | ---: | ---: |', ...rows].join('\n');
}
