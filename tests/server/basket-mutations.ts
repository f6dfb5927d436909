/**
 * Bodies for the differential tests of the workers' fast paths: valid baskets and mutations that
 * probe every field's type, bounds and format, and the shapes around them.
 */
import type { Basket } from '../../core/schema/lgsr';

/** Values that probe types, bounds, formats and JSON oddities (Infinity and NaN come from `1e999` and code, not JSON). */
export const ODD_VALUES: readonly unknown[] = [
  undefined, null, true, false, 0, -0, 1, -1, 0.5, 1.5, 6, 7, 8, 23, 24, 200, 9999, 10_000, 10_001, 1e9, 1e9 + 1, 2 ** 53, -(2 ** 53),
  Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN, '', ' ', '1', '0.93', 'LS', 'ls', 'XLS', 'XX', 'E02', 'E04', 'X01', 'Full Shop', 'full shop',
  'Mixed', 'STORE00001', 'STORE0001', 'STORE00001\n', ' STORE00001', 'PRD0900033', 'PRD090003', 'PRD09000333', 'prd0900033', 'CL00201', 'CL0020',
  'DEP00067', 'G00021', 'D00005', 'D000051', [], [1], {}, { nested: true },
];

export function mutations(basket: Basket): unknown[] {
  const out: unknown[] = [basket, null, [], 'basket', {}, { context: basket.context }, { lines: basket.lines }];
  const contextKeys = Object.keys(basket.context) as (keyof Basket['context'])[];
  const lineKeys = Object.keys(basket.lines[0]) as (keyof Basket['lines'][number])[];
  for (const key of contextKeys) {
    const without: Record<string, unknown> = { ...basket.context };
    delete without[key];
    out.push({ ...basket, context: without });
    for (const value of ODD_VALUES) out.push({ ...basket, context: { ...basket.context, [key]: value } });
  }
  for (const key of lineKeys) {
    const without: Record<string, unknown> = { ...basket.lines[0] };
    delete without[key];
    out.push({ ...basket, lines: [without, ...basket.lines.slice(1)] });
    for (const value of ODD_VALUES) out.push({ ...basket, lines: [...basket.lines.slice(1), { ...basket.lines[0], [key]: value }] });
  }
  for (const value of ODD_VALUES) {
    out.push({ ...basket, context: value }, { ...basket, lines: value }, { ...basket, lines: [value] });
    out.push({ ...basket, lines: [...basket.lines.slice(0, 1), value] });
  }
  const line = basket.lines[0];
  for (const count of [0, 1, 5, 6, 7]) out.push({ ...basket, lines: Array.from({ length: count }, () => line) });
  // the optional BASKET_ID (15 digits as a string): valid, then wrong in every way
  for (const value of ['994100100398294', '99410010039829', '9941001003982940', '99410010039829x', 994100100398294, ...ODD_VALUES]) {
    out.push({ ...basket, context: { ...basket.context, BASKET_ID: value } });
  }
  out.push({ ...basket, context: { BASKET_ID: '994100100398294', ...basket.context } });
  // unknown keys are allowed (zod strips them)
  out.push({ ...basket, BASKET_ID: '994100100398294', context: { ...basket.context, CUST_CODE: 'CUST0000410727' }, lines: basket.lines.map((item) => ({ ...item, extra: [1] })) });
  return out;
}
