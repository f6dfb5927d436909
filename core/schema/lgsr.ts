/**
 * The Let's Get Sort-of-Real (LGSR) transaction format: one row per product line, 22 columns.
 * Two header variants exist in the wild: `CUST_PRICE_SENSITIVITY, CUST_LIFESTAGE` (decoded values)
 * or `seg_1, seg_2` (coded values); everything downstream of ingest sees the decoded form.
 */

/** Columns in file order, `lgsr` header variant. */
export const LGSR_COLUMNS = [
  'SHOP_WEEK',
  'SHOP_DATE',
  'SHOP_WEEKDAY',
  'SHOP_HOUR',
  'QUANTITY',
  'SPEND',
  'PROD_CODE',
  'PROD_CODE_10',
  'PROD_CODE_20',
  'PROD_CODE_30',
  'PROD_CODE_40',
  'CUST_CODE',
  'CUST_PRICE_SENSITIVITY',
  'CUST_LIFESTAGE',
  'BASKET_ID',
  'BASKET_SIZE',
  'BASKET_PRICE_SENSITIVITY',
  'BASKET_TYPE',
  'BASKET_DOMINANT_MISSION',
  'STORE_CODE',
  'STORE_FORMAT',
  'STORE_REGION',
] as const;

export type LgsrColumn = (typeof LGSR_COLUMNS)[number];

/** The two header variants; `seg` names the two customer-segment columns `seg_1`, `seg_2`. */
export type HeaderVariant = 'lgsr' | 'seg';

export const SEG_COLUMNS: Readonly<Record<'CUST_PRICE_SENSITIVITY' | 'CUST_LIFESTAGE', string>> = {
  CUST_PRICE_SENSITIVITY: 'seg_1',
  CUST_LIFESTAGE: 'seg_2',
};

/** Columns in file order for a header variant. */
export function columnsFor(variant: HeaderVariant): readonly string[] {
  if (variant === 'lgsr') return LGSR_COLUMNS;
  return LGSR_COLUMNS.map((column) => (column in SEG_COLUMNS ? SEG_COLUMNS[column as keyof typeof SEG_COLUMNS] : column));
}

/** Detects the header variant from a header line; undefined when it is not an LGSR header. */
export function detectHeaderVariant(headerLine: string): HeaderVariant | undefined {
  const names = headerLine.replace(/^\uFEFF/, '').trim().split(',').map((name) => name.trim().replace(/^"|"$/g, ''));
  for (const variant of ['lgsr', 'seg'] as const) {
    const expected = columnsFor(variant);
    if (names.length === expected.length && names.every((name, index) => name === expected[index])) return variant;
  }
  return undefined;
}

/** seg_1 codes → customer price sensitivity. */
export const SEG1_CODES: Readonly<Record<string, string>> = { AZ: 'LA', CT: 'MM', BG: 'UM', DY: 'XX' };
/** seg_2 codes → customer lifestage. */
export const SEG2_CODES: Readonly<Record<string, string>> = { AT: 'YA', CZ: 'OA', DI: 'YF', EQ: 'OF', FN: 'PE', BU: 'OT' };

/** The classes a model predicts, in the fixed order of every probability vector and ONNX label id. */
export const PRICE_SENSITIVITY_CLASSES = ['LA', 'MM', 'UM'] as const;
export type PriceSensitivity = (typeof PRICE_SENSITIVITY_CLASSES)[number];
/** Unclassified baskets: excluded from training and metrics, reported separately. */
export const UNCLASSIFIED = 'XX';

export const BASKET_SIZES = ['S', 'M', 'L'] as const;
export const BASKET_TYPES = ['Small Shop', 'Top Up', 'Full Shop', 'XX'] as const;
export const BASKET_MISSIONS = ['Fresh', 'Mixed', 'Grocery', 'Nonfood', 'XX'] as const;
export const STORE_FORMATS = ['LS', 'MS', 'SS', 'XLS'] as const;
export const STORE_REGIONS = ['E01', 'E02', 'E03', 'N01', 'N02', 'N03', 'S01', 'S02', 'S03', 'W01', 'W02', 'W03'] as const;
export const CUST_LIFESTAGES = ['YA', 'OA', 'YF', 'OF', 'PE', 'OT', 'XX'] as const;

/** Code formats: a strict product tree PROD_CODE → _10 → _20 → _30 → _40. */
export const CODE_PATTERNS = {
  PROD_CODE: /^PRD\d{7}$/,
  PROD_CODE_10: /^CL\d{5}$/,
  PROD_CODE_20: /^DEP\d{5}$/,
  PROD_CODE_30: /^G\d{5}$/,
  PROD_CODE_40: /^D\d{5}$/,
  CUST_CODE: /^(CUST\d{10})?$/,
  BASKET_ID: /^\d{15}$/,
  STORE_CODE: /^STORE\d{5}$/,
  STORE_REGION: /^[ENSW]0[1-3]$/,
} as const;

/** Same patterns as SQL regular expressions (RE2 syntax), for validation inside DuckDB. */
export const CODE_PATTERNS_SQL: Readonly<Record<keyof typeof CODE_PATTERNS, string>> = Object.fromEntries(
  Object.entries(CODE_PATTERNS).map(([column, pattern]) => [column, pattern.source.replace(/\\d/g, '[0-9]')]),
) as Record<keyof typeof CODE_PATTERNS, string>;

/** BASKET_SIZE follows from the number of items (sum of QUANTITY): S = 1–2, M = 3–9, L ≥ 10. */
export function basketSizeFor(items: number): 'S' | 'M' | 'L' {
  if (items <= 2) return 'S';
  if (items <= 9) return 'M';
  return 'L';
}

/**
 * Fiscal weeks: SHOP_WEEK is YYYYWW, Monday to Sunday; week 200607 starts on Monday 2006-04-10.
 * The fiscal year starts on the Monday of week 01, so week 01 of 2006 starts 2006-02-27 and a fiscal
 * year has 52 weeks (the release spans 2006-04 to 2008-07).
 */
const WEEK_200601_START_UTC = Date.UTC(2006, 1, 27);
const DAY_MS = 86_400_000;

/** Monday of a fiscal week, as a UTC epoch in ms. */
export function fiscalWeekStart(shopWeek: number): number {
  const year = Math.floor(shopWeek / 100);
  const week = shopWeek % 100;
  return WEEK_200601_START_UTC + ((year - 2006) * 52 + (week - 1)) * 7 * DAY_MS;
}

/** Fiscal week (YYYYWW) containing a UTC epoch in ms. */
export function fiscalWeekOf(epochMs: number): number {
  const weeksSince = Math.floor((epochMs - WEEK_200601_START_UTC) / (7 * DAY_MS));
  const year = 2006 + Math.floor(weeksSince / 52);
  const week = (((weeksSince % 52) + 52) % 52) + 1;
  return year * 100 + week;
}

/** YYYYMMDD of a UTC epoch in ms. */
export function toShopDate(epochMs: number): number {
  const date = new Date(epochMs);
  return date.getUTCFullYear() * 10_000 + (date.getUTCMonth() + 1) * 100 + date.getUTCDate();
}

/** UTC epoch in ms of a YYYYMMDD date, or undefined when it is not a real calendar date. */
export function parseShopDate(shopDate: number): number | undefined {
  const year = Math.floor(shopDate / 10_000);
  const month = Math.floor(shopDate / 100) % 100;
  const day = shopDate % 100;
  const epoch = Date.UTC(year, month - 1, day);
  const date = new Date(epoch);
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return undefined;
  return epoch;
}

/** SHOP_WEEKDAY: 1 = Sunday … 7 = Saturday. */
export function shopWeekdayOf(epochMs: number): number {
  return new Date(epochMs).getUTCDay() + 1;
}

/** One product line of a basket, as the API and the feature function see it. */
export interface BasketLine {
  readonly PROD_CODE: string;
  readonly PROD_CODE_10: string;
  readonly PROD_CODE_20: string;
  readonly PROD_CODE_30: string;
  readonly PROD_CODE_40: string;
  readonly QUANTITY: number;
  readonly SPEND: number;
}

/** The basket's context: what is known at the till besides the lines. */
export interface BasketContext {
  readonly STORE_CODE: string;
  readonly STORE_FORMAT: string;
  readonly STORE_REGION: string;
  readonly SHOP_WEEKDAY: number;
  readonly SHOP_HOUR: number;
  readonly BASKET_TYPE: string;
  readonly BASKET_DOMINANT_MISSION: string;
  /** The basket's id (15 digits), when the caller knows it: labels ingested later join predictions by it. */
  readonly BASKET_ID?: string;
}

/** A basket as the features see it: context plus lines (the API request body has this shape). */
export interface Basket {
  readonly context: BasketContext;
  readonly lines: readonly BasketLine[];
}
