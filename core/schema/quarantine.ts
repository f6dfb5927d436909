/**
 * Why a row (or a whole basket) was quarantined at ingest. The generator's `--faults` kinds use the
 * same codes, so a test can check that each injected fault lands under its own reason.
 */
export const ROW_FAULTS = [
  /** SHOP_DATE is not a YYYYMMDD calendar date. */
  'bad_date',
  /** SHOP_DATE is a real date but outside its SHOP_WEEK (or SHOP_WEEKDAY disagrees with it). */
  'date_not_in_week',
  /** SPEND or QUANTITY is negative. */
  'negative_spend',
  /** A numeric column (SHOP_WEEK, SHOP_DATE, SHOP_WEEKDAY, SHOP_HOUR, QUANTITY, SPEND) does not parse. */
  'non_numeric',
  /** A code column does not have its format (PRD…, CL…, DEP…, G…, D…, STORE…, CUST…, 15-digit basket). */
  'unknown_code',
  /** The line has more or fewer than 22 fields. */
  'wrong_column_count',
  /** The line is not valid UTF-8. */
  'invalid_utf8',
  /** The line repeats an earlier line of the same file exactly. */
  'duplicate_line',
] as const;
export type RowFault = (typeof ROW_FAULTS)[number];

export const QUARANTINE_REASONS = [
  ...ROW_FAULTS,
  /** A categorical column holds a value outside its domain, or an hour/weekday out of range. */
  'invalid_value',
  /** A required column is empty. */
  'missing_value',
  /** The basket's rows disagree on store, week, or label: the whole basket is quarantined. */
  'basket_inconsistent',
  /** The basket id is already in the lake from an earlier ingest of other content. */
  'basket_already_ingested',
  /** The CSV reader could not split the line into fields (e.g. an unterminated quote). */
  'malformed_csv',
] as const;
export type QuarantineReason = (typeof QUARANTINE_REASONS)[number];
