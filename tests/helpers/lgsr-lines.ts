/**
 * A small independent LGSR reader and row checker for tests: it does not reuse the generator's
 * code, only the schema, so a generator bug cannot hide behind itself.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import {
  BASKET_MISSIONS,
  BASKET_SIZES,
  BASKET_TYPES,
  CODE_PATTERNS,
  CUST_LIFESTAGES,
  SEG1_CODES,
  SEG2_CODES,
  STORE_FORMATS,
  STORE_REGIONS,
  fiscalWeekOf,
  parseShopDate,
  shopWeekdayOf,
} from '../../core/schema/lgsr';

/** The raw lines of a `.csv` or `.csv.gz` file (header included), without their `\n`. */
export function readRawLines(file: string): Buffer[] {
  const raw = readFileSync(file);
  const bytes = file.endsWith('.gz') ? gunzipSync(raw) : raw;
  const lines: Buffer[] = [];
  let start = 0;
  for (let index = bytes.indexOf(0x0a); index >= 0; index = bytes.indexOf(0x0a, start)) {
    lines.push(bytes.subarray(start, index));
    start = index + 1;
  }
  if (start !== bytes.length) throw new Error(`${file} does not end with \\n`);
  return lines;
}

/** One clean row, typed. */
export interface Row {
  readonly SHOP_WEEK: number;
  readonly SHOP_DATE: number;
  readonly SHOP_WEEKDAY: number;
  readonly SHOP_HOUR: number;
  readonly QUANTITY: number;
  readonly SPEND: number;
  readonly PROD_CODE: string;
  readonly PROD_CODE_10: string;
  readonly PROD_CODE_20: string;
  readonly PROD_CODE_30: string;
  readonly PROD_CODE_40: string;
  readonly CUST_CODE: string;
  /** CUST_PRICE_SENSITIVITY or seg_1, as written. */
  readonly SEGMENT_1: string;
  /** CUST_LIFESTAGE or seg_2, as written. */
  readonly SEGMENT_2: string;
  readonly BASKET_ID: string;
  readonly BASKET_SIZE: string;
  readonly BASKET_PRICE_SENSITIVITY: string;
  readonly BASKET_TYPE: string;
  readonly BASKET_DOMINANT_MISSION: string;
  readonly STORE_CODE: string;
  readonly STORE_FORMAT: string;
  readonly STORE_REGION: string;
}

/** `""` is how the release writes an empty value. */
function unquote(value: string): string {
  return value === '""' ? '' : value;
}

export function parseRow(line: string): Row {
  const fields = line.split(',').map(unquote);
  if (fields.length !== 22) throw new Error(`expected 22 fields: ${line}`);
  return {
    SHOP_WEEK: Number(fields[0]),
    SHOP_DATE: Number(fields[1]),
    SHOP_WEEKDAY: Number(fields[2]),
    SHOP_HOUR: Number(fields[3]),
    QUANTITY: Number(fields[4]),
    SPEND: Number(fields[5]),
    PROD_CODE: fields[6],
    PROD_CODE_10: fields[7],
    PROD_CODE_20: fields[8],
    PROD_CODE_30: fields[9],
    PROD_CODE_40: fields[10],
    CUST_CODE: fields[11],
    SEGMENT_1: fields[12],
    SEGMENT_2: fields[13],
    BASKET_ID: fields[14],
    BASKET_SIZE: fields[15],
    BASKET_PRICE_SENSITIVITY: fields[16],
    BASKET_TYPE: fields[17],
    BASKET_DOMINANT_MISSION: fields[18],
    STORE_CODE: fields[19],
    STORE_FORMAT: fields[20],
    STORE_REGION: fields[21],
  };
}

const NUMBER = /^-?\d+(\.\d+)?$/;
const INTEGER = /^-?\d+$/;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Every way a raw line breaks the format, using the quarantine reason codes (plus `invalid_value`).
 * `seen` holds earlier lines of the same file, for `duplicate_line`. A line with the wrong number of
 * fields gets only that problem (its fields cannot be aligned); a line with bad UTF-8 is checked
 * further with the bad bytes (C3 28) taken out, so a second problem would still show.
 */
export function lineProblems(raw: Buffer, seen: Set<string>, variant: 'lgsr' | 'seg'): string[] {
  const problems: string[] = [];
  let text = raw.toString('latin1');
  try {
    strictUtf8.decode(raw);
  } catch {
    problems.push('invalid_utf8');
    text = text.split('\u00c3(').join('');
  }
  if (seen.has(text)) problems.push('duplicate_line');
  seen.add(text);
  const fields = text.split(',');
  if (fields.length !== 22) return [...problems, 'wrong_column_count'];
  const value = (index: number): string => unquote(fields[index]);

  const numeric = [0, 1, 2, 3].every((index) => INTEGER.test(value(index))) && INTEGER.test(value(4)) && NUMBER.test(value(5));
  if (!numeric) {problems.push('non_numeric');} else {
    const epoch = parseShopDate(Number(value(1)));
    if (epoch === undefined) problems.push('bad_date');
    else if (fiscalWeekOf(epoch) !== Number(value(0)) || shopWeekdayOf(epoch) !== Number(value(2))) problems.push('date_not_in_week');
    if (Number(value(4)) < 0 || Number(value(5)) < 0) problems.push('negative_spend');
    const hour = Number(value(3));
    if (hour < 8 || hour > 21) problems.push('invalid_value');
  }
  const codes: [number, RegExp][] = [
    [6, CODE_PATTERNS.PROD_CODE],
    [7, CODE_PATTERNS.PROD_CODE_10],
    [8, CODE_PATTERNS.PROD_CODE_20],
    [9, CODE_PATTERNS.PROD_CODE_30],
    [10, CODE_PATTERNS.PROD_CODE_40],
    [11, CODE_PATTERNS.CUST_CODE],
    [14, CODE_PATTERNS.BASKET_ID],
    [19, CODE_PATTERNS.STORE_CODE],
  ];
  if (codes.some(([index, pattern]) => !pattern.test(value(index)))) problems.push('unknown_code');

  const segment1 = variant === 'seg' ? ['', ...Object.keys(SEG1_CODES)] : ['', 'LA', 'MM', 'UM', 'XX'];
  const segment2 = variant === 'seg' ? ['', ...Object.keys(SEG2_CODES)] : ['', ...CUST_LIFESTAGES];
  const domains: [number, readonly string[]][] = [
    [12, segment1],
    [13, segment2],
    [15, BASKET_SIZES],
    [16, ['LA', 'MM', 'UM', 'XX']],
    [17, BASKET_TYPES],
    [18, BASKET_MISSIONS],
    [20, STORE_FORMATS],
    [21, STORE_REGIONS],
  ];
  if (domains.some(([index, allowed]) => !allowed.includes(value(index)))) problems.push('invalid_value');
  return problems;
}
