import { sqlString } from './duckdb';
import {
  BASKET_MISSIONS,
  BASKET_SIZES,
  BASKET_TYPES,
  CODE_PATTERNS_SQL,
  CUST_LIFESTAGES,
  LGSR_COLUMNS,
  SEG1_CODES,
  SEG2_CODES,
  STORE_FORMATS,
  STORE_REGIONS,
  type HeaderVariant,
} from '../schema/lgsr';

/**
 * The SQL that turns one raw LGSR file into typed, checked rows. Every column is read as text
 * (so nothing is lost before it is checked), then cast with TRY_CAST; the first failing check
 * names the row's quarantine reason and the column it failed on.
 */

const inList = (values: readonly string[]): string => `(${values.map(sqlString).join(', ')})`;

function decodeSql(column: string, codes: Readonly<Record<string, string>>): string {
  return `CASE ${column} ${Object.entries(codes).map(([code, value]) => `WHEN ${sqlString(code)} THEN ${sqlString(value)}`).join(' ')} END`;
}

/**
 * read_csv over one file, every column as VARCHAR, rejected lines stored in `rejects_<n>`. Quoted
 * empty fields stay empty strings (allow_quoted_nulls = false): otherwise a line with a 23rd field
 * `""` would pass as 22 columns.
 */
export function readCsvSql(file: string, index: number): string {
  const columns = `{${LGSR_COLUMNS.map((column) => `${sqlString(column)}: 'VARCHAR'`).join(', ')}}`;
  return `read_csv(${sqlString(file)}, columns = ${columns}, header = true, auto_detect = false, delim = ',', quote = '"', escape = '"',
    store_rejects = true, rejects_scan = 'reject_scans_${index}', rejects_table = 'rejects_${index}', max_line_size = 1048576,
    allow_quoted_nulls = false)`;
}

/**
 * The raw fields LINE_HASH covers: those whose typed value does not pin down the text (a number
 * written '7' or '07'). Every other column of a clean row is an ENUM (a cast only matches the exact
 * text) or kept as text, so equal typed rows with equal hashes of these are equal lines.
 */
const RAW_HASHED = ['SHOP_WEEK', 'SHOP_DATE', 'SHOP_WEEKDAY', 'SHOP_HOUR', 'QUANTITY', 'SPEND', 'BASKET_ID'] as const;

const REQUIRED = LGSR_COLUMNS.filter((column) => !['CUST_CODE', 'CUST_PRICE_SENSITIVITY', 'CUST_LIFESTAGE'].includes(column));
const NUMERIC = ['SHOP_WEEK', 'SHOP_DATE', 'SHOP_WEEKDAY', 'SHOP_HOUR', 'QUANTITY', 'SPEND'] as const;

/** Code columns whose every valid value is known (DESIGN.md: the code tree and store range) → ENUM types. */
interface CodeEnum {
  readonly column: string;
  readonly type: string;
  readonly prefix: string;
  readonly from: number;
  readonly to: number;
  readonly digits: number;
}

const CODE_ENUMS: readonly CodeEnum[] = [
  { column: 'PROD_CODE', type: 'lgsr_prod', prefix: 'PRD', from: 900_001, to: 905_000, digits: 7 },
  { column: 'PROD_CODE_10', type: 'lgsr_prod_10', prefix: 'CL', from: 1, to: 250, digits: 5 },
  { column: 'PROD_CODE_20', type: 'lgsr_prod_20', prefix: 'DEP', from: 1, to: 90, digits: 5 },
  { column: 'PROD_CODE_30', type: 'lgsr_prod_30', prefix: 'G', from: 1, to: 31, digits: 5 },
  { column: 'PROD_CODE_40', type: 'lgsr_prod_40', prefix: 'D', from: 1, to: 9, digits: 5 },
  { column: 'STORE_CODE', type: 'lgsr_store', prefix: 'STORE', from: 1, to: 2_908, digits: 5 },
];

/** Categorical columns → ENUM types. */
const CATEGORY_ENUMS: ReadonlyArray<{ readonly column: string; readonly type: string; readonly values: readonly string[] }> = [
  { column: 'STORE_REGION', type: 'lgsr_region', values: STORE_REGIONS },
  { column: 'STORE_FORMAT', type: 'lgsr_format', values: STORE_FORMATS },
  { column: 'BASKET_SIZE', type: 'lgsr_size', values: BASKET_SIZES },
  { column: 'BASKET_PRICE_SENSITIVITY', type: 'lgsr_sensitivity', values: ['LA', 'MM', 'UM', 'XX'] },
  { column: 'BASKET_TYPE', type: 'lgsr_type', values: BASKET_TYPES },
  { column: 'BASKET_DOMINANT_MISSION', type: 'lgsr_mission', values: BASKET_MISSIONS },
  { column: 'CUST_LIFESTAGE', type: 'lgsr_lifestage', values: CUST_LIFESTAGES },
];

/**
 * Valid codes and categories are ENUMs while staging: a cast is an exact, strict membership test
 * (cheaper than a regular expression) and a value takes 1–2 bytes instead of a string.
 */
export function createEnumTypesSql(): string {
  const statements = CODE_ENUMS.map(({ type, prefix, from, to, digits }) => {
    const values: string[] = [];
    for (let number = from; number <= to; number++) values.push(`${prefix}${String(number).padStart(digits, '0')}`);
    return `CREATE TYPE ${type} AS ENUM ${inList(values)};`;
  });
  statements.push(...CATEGORY_ENUMS.map(({ type, values }) => `CREATE TYPE ${type} AS ENUM ${inList(values)};`));
  return statements.join('\n');
}

/** First failing check as 'reason:COLUMN', or NULL for a clean row. Order matters: the first match wins. */
function checkSql(): string {
  const branches: string[] = [];
  for (const column of REQUIRED) branches.push(`WHEN ${column} IS NULL OR ${column} = '' THEN 'missing_value:${column}'`);
  // the typed values are cast once in the CTE; a NULL there is a value that did not parse
  for (const column of NUMERIC) {
    const reason = column === 'SHOP_DATE' ? 'bad_date' : 'non_numeric';
    const check = column === 'SHOP_DATE' ? `TRY_CAST(${column} AS BIGINT) IS NULL` : `${column}_VALUE IS NULL`;
    branches.push(`WHEN ${check} THEN '${reason}:${column}'`);
  }
  branches.push('WHEN SHOP_DATE_VALUE IS NULL THEN \'bad_date:SHOP_DATE\'');
  branches.push('WHEN SPEND_VALUE < 0 OR QUANTITY_VALUE < 0 THEN \'negative_spend:\' || CASE WHEN SPEND_VALUE < 0 THEN \'SPEND\' ELSE \'QUANTITY\' END');
  for (const { column } of CODE_ENUMS) branches.push(`WHEN ${column}_VALUE IS NULL THEN 'unknown_code:${column}'`);
  branches.push('WHEN BASKET_ID_VALUE IS NULL OR BASKET_ID_VALUE NOT BETWEEN 100000000000000 AND 999999999999999 THEN \'unknown_code:BASKET_ID\'');
  branches.push('WHEN STORE_REGION_VALUE IS NULL THEN \'unknown_code:STORE_REGION\'');
  branches.push(`WHEN CUST_CODE IS NOT NULL AND NOT regexp_full_match(CUST_CODE, ${sqlString(CODE_PATTERNS_SQL.CUST_CODE)}) THEN 'unknown_code:CUST_CODE'`);
  branches.push('WHEN SHOP_WEEKDAY_VALUE NOT BETWEEN 1 AND 7 THEN \'invalid_value:SHOP_WEEKDAY\'');
  branches.push('WHEN SHOP_WEEKDAY_VALUE <> dayofweek(SHOP_DATE_VALUE) + 1 THEN \'date_not_in_week:SHOP_WEEKDAY\'');
  branches.push('WHEN SHOP_WEEK_VALUE % 100 NOT BETWEEN 1 AND 53 THEN \'invalid_value:SHOP_WEEK\'');
  branches.push('WHEN SHOP_HOUR_VALUE NOT BETWEEN 0 AND 23 THEN \'invalid_value:SHOP_HOUR\'');
  branches.push('WHEN QUANTITY_VALUE = 0 THEN \'invalid_value:QUANTITY\'');
  for (const { column } of CATEGORY_ENUMS) {
    if (column === 'STORE_REGION' || column === 'CUST_LIFESTAGE') continue;
    branches.push(`WHEN ${column}_VALUE IS NULL THEN 'invalid_value:${column}'`);
  }
  branches.push('WHEN CUST_PRICE_SENSITIVITY IS NOT NULL AND CUST_PRICE_SENSITIVITY_VALUE IS NULL THEN \'invalid_value:CUST_PRICE_SENSITIVITY\'');
  branches.push('WHEN CUST_LIFESTAGE IS NOT NULL AND CUST_LIFESTAGE_VALUE IS NULL THEN \'invalid_value:CUST_LIFESTAGE\'');
  return `CASE ${branches.join('\n    ')} END`;
}

/**
 * Creates table `lines_<n>`: the file's rows typed and checked, in file order (so rowid is the
 * data-row index), with CHECK = 'reason:COLUMN' or NULL and a hash of the raw numeric fields
 * (RAW_HASHED) for finding duplicate lines.
 */
export function stageFileSql(file: string, index: number, variant: HeaderVariant): string {
  const sensitivity = variant === 'seg' ? decodeSql('CUST_PRICE_SENSITIVITY', SEG1_CODES) : 'CUST_PRICE_SENSITIVITY';
  const lifestage = variant === 'seg' ? decodeSql('CUST_LIFESTAGE', SEG2_CODES) : 'CUST_LIFESTAGE';
  const enumValues = [
    ...CODE_ENUMS.map(({ column, type }) => `TRY_CAST(${column} AS ${type}) AS ${column}_VALUE`),
    ...CATEGORY_ENUMS.filter(({ column }) => column !== 'CUST_LIFESTAGE').map(({ column, type }) => `TRY_CAST(${column} AS ${type}) AS ${column}_VALUE`),
    `TRY_CAST(${sensitivity} AS lgsr_sensitivity) AS CUST_PRICE_SENSITIVITY_VALUE`,
    `TRY_CAST(${lifestage} AS lgsr_lifestage) AS CUST_LIFESTAGE_VALUE`,
  ];
  const typedColumns = [...CODE_ENUMS.map(({ column }) => column), ...CATEGORY_ENUMS.map(({ column }) => column), 'CUST_PRICE_SENSITIVITY'];
  return `CREATE TEMP TABLE lines_${index} AS
  WITH raw AS (
    SELECT * REPLACE (nullif(CUST_CODE, '') AS CUST_CODE, nullif(CUST_PRICE_SENSITIVITY, '') AS CUST_PRICE_SENSITIVITY,
      nullif(CUST_LIFESTAGE, '') AS CUST_LIFESTAGE)
    FROM ${readCsvSql(file, index)}
  ),
  typed AS (
    SELECT *,
      TRY_CAST(SHOP_WEEK AS INTEGER) AS SHOP_WEEK_VALUE,
      TRY_CAST(try_strptime(SHOP_DATE, '%Y%m%d') AS DATE) AS SHOP_DATE_VALUE,
      TRY_CAST(SHOP_WEEKDAY AS TINYINT) AS SHOP_WEEKDAY_VALUE,
      TRY_CAST(SHOP_HOUR AS TINYINT) AS SHOP_HOUR_VALUE,
      TRY_CAST(QUANTITY AS INTEGER) AS QUANTITY_VALUE,
      TRY_CAST(SPEND AS DOUBLE) AS SPEND_VALUE,
      TRY_CAST(BASKET_ID AS BIGINT) AS BASKET_ID_VALUE,
      ${enumValues.join(',\n      ')}
    FROM raw
  )
  SELECT
    SHOP_WEEK_VALUE AS SHOP_WEEK, SHOP_DATE_VALUE AS SHOP_DATE, SHOP_WEEKDAY_VALUE AS SHOP_WEEKDAY, SHOP_HOUR_VALUE AS SHOP_HOUR,
    QUANTITY_VALUE AS QUANTITY, SPEND_VALUE AS SPEND, BASKET_ID_VALUE AS BASKET_ID,
    ${typedColumns.map((column) => `${column}_VALUE AS ${column}`).join(', ')},
    CUST_CODE,
    SHOP_DATE_VALUE - CAST(isodow(SHOP_DATE_VALUE) - 1 AS INTEGER) AS WEEK_MONDAY,
    hash(${RAW_HASHED.join(', ')}) AS LINE_HASH,
    ${checkSql()} AS "CHECK"
  FROM typed`;
}

/** Silver columns, in order (the partition columns STORE_REGION, BASKET_TYPE go last); DuckDB writes the ENUMs as dictionary-encoded Parquet strings. */
export const SILVER_SELECT = `SHOP_WEEK, SHOP_DATE, SHOP_WEEKDAY, SHOP_HOUR, QUANTITY, SPEND,
  PROD_CODE, PROD_CODE_10, PROD_CODE_20,
  PROD_CODE_30, PROD_CODE_40,
  CUST_CODE, CUST_PRICE_SENSITIVITY, CUST_LIFESTAGE,
  BASKET_ID, BASKET_SIZE, BASKET_PRICE_SENSITIVITY,
  BASKET_DOMINANT_MISSION, STORE_CODE, STORE_FORMAT,
  SOURCE_VARIANT, SOURCE_FILE, SOURCE_ROW, STORE_REGION, BASKET_TYPE`;

/** An ENUM code column's numeric part from its ENUM index ('PRD0900001' is index 0 of PRD0900001…PRD0905000 → 900001). */
function codeNumberSql(column: string, type: string): string {
  const { from } = CODE_ENUMS.find((entry) => entry.column === column)!;
  return `(enum_code(${column}) + ${from})::${type}`;
}

/**
 * Gold, from the checked staging rows: one row per basket with its context, label, totals, and its
 * lines as a list of structs. Codes in LINES are their numeric parts (PROD_CODE 'PRD0900001' → PROD
 * 900001, 'CL00001' → PROD_10 1, …), lossless for accepted rows (codes are checked against the code
 * tree) and what the features index by.
 */
export const GOLD_SELECT = `SELECT
    BASKET_ID,
    any_value(SHOP_DATE) AS SHOP_DATE, any_value(SHOP_WEEKDAY) AS SHOP_WEEKDAY, min(SHOP_HOUR) AS SHOP_HOUR,
    any_value(STORE_CODE)::VARCHAR AS STORE_CODE, any_value(STORE_FORMAT)::VARCHAR AS STORE_FORMAT, any_value(STORE_REGION)::VARCHAR AS STORE_REGION,
    any_value(BASKET_TYPE)::VARCHAR AS BASKET_TYPE, any_value(BASKET_DOMINANT_MISSION)::VARCHAR AS BASKET_DOMINANT_MISSION,
    any_value(BASKET_SIZE)::VARCHAR AS BASKET_SIZE, any_value(CUST_CODE) AS CUST_CODE, any_value(CUST_PRICE_SENSITIVITY)::VARCHAR AS CUST_PRICE_SENSITIVITY,
    any_value(CUST_LIFESTAGE)::VARCHAR AS CUST_LIFESTAGE, any_value(BASKET_PRICE_SENSITIVITY)::VARCHAR AS BASKET_PRICE_SENSITIVITY,
    count(*)::INTEGER AS LINE_COUNT, sum(QUANTITY)::INTEGER AS ITEMS, round(sum(SPEND), 2) AS SPEND,
    list({PROD: ${codeNumberSql('PROD_CODE', 'INTEGER')}, PROD_10: ${codeNumberSql('PROD_CODE_10', 'SMALLINT')},
          PROD_20: ${codeNumberSql('PROD_CODE_20', 'SMALLINT')}, PROD_30: ${codeNumberSql('PROD_CODE_30', 'SMALLINT')},
          PROD_40: ${codeNumberSql('PROD_CODE_40', 'SMALLINT')}, QUANTITY: QUANTITY::SMALLINT, SPEND: SPEND::FLOAT}) AS LINES,
    any_value(SHOP_WEEK) AS SHOP_WEEK`;
