/**
 * Options of the LGSR generator: readonly, flat, documented with their defaults, validated eagerly
 * with every problem reported at once.
 */
import { ProblemCollector } from '../errors';
import type { ProgressReporter } from '../progress';
import { silentProgress } from '../progress';
import type { HeaderVariant } from '../schema/lgsr';

/** What the rows look like: everything but where they go. */
export interface LgsrContentOptions {
  /** Data rows to write over all files: clean and faulty lines, header lines not counted. 1 … 100,000,000. */
  readonly rows: number;
  /**
   * Seed of every random draw: the same options and seed give byte-identical output.
   * A safe integer ≥ 0.
   * @default 42
   */
  readonly seed?: number;
  /**
   * Header variant: `lgsr` writes `CUST_PRICE_SENSITIVITY, CUST_LIFESTAGE` with decoded values (LA, YA…),
   * `seg` writes `seg_1, seg_2` with coded values (AZ, AT…).
   * @default 'lgsr'
   */
  readonly variant?: HeaderVariant;
  /**
   * Share of rows that are faulty, 0 … 0.5. Faulty rows are extra lines inside otherwise clean
   * baskets, spread evenly over the kinds of `ROW_FAULTS`, each broken in exactly one way.
   * @default 0
   */
  readonly faultRate?: number;
  /**
   * Number of consecutive fiscal weeks, 1 … 999 (and at most `rows`).
   * @default about 24,000 rows a week like the release: round(rows / 24,000), at least 1, at most 999
   */
  readonly weeks?: number;
  /**
   * First SHOP_WEEK, fiscal YYYYWW (WW 01 … 52, year 1990 … 2099).
   * @default 200607
   */
  readonly startWeek?: number;
}

/** Options of `generateLgsr`: the content plus where and how to write it. */
export interface GenerateLgsrOptions extends LgsrContentOptions {
  /**
   * Where to write: a path ending `.csv` (one file), `.csv.gz` (one gzip file), or anything else
   * for a directory with one `transactions_YYYYWW.csv` per week (created; must be empty if it exists).
   */
  readonly out: string;
  /**
   * gzip level for a `.csv.gz` output, 0 … 9.
   * @default 6 (zlib's default; 2.7M rows take ≈ 7.5 s at 6 against ≈ 5 s at 1, for a file ~20% smaller)
   */
  readonly gzipLevel?: number;
  /**
   * Receives the rows written (phase `generate`, unit `rows`).
   * @default silentProgress
   */
  readonly progress?: ProgressReporter;
}

export const ROWS_PER_WEEK = 24_000;
export const MAX_ROWS = 100_000_000;
export const MAX_WEEKS = 999;
export const MAX_FAULT_RATE = 0.5;

export const GENERATOR_DEFAULTS = {
  seed: 42,
  variant: 'lgsr',
  faultRate: 0,
  startWeek: 200607,
  gzipLevel: 6,
} as const;

/** Options with every default filled in. */
export interface ResolvedLgsrContentOptions {
  readonly rows: number;
  readonly seed: number;
  readonly variant: HeaderVariant;
  readonly faultRate: number;
  readonly weeks: number;
  readonly startWeek: number;
}

export interface ResolvedGenerateLgsrOptions extends ResolvedLgsrContentOptions {
  readonly out: string;
  readonly gzipLevel: number;
  readonly progress: ProgressReporter;
}

export type OutputFormat = 'csv' | 'csv.gz' | 'directory';

/** How `out` is written: by its ending. */
export function outputFormatOf(out: string): OutputFormat {
  if (out.endsWith('.csv.gz')) return 'csv.gz';
  if (out.endsWith('.csv')) return 'csv';
  return 'directory';
}

/** Default week count for a number of rows. */
export function defaultWeeksFor(rows: number): number {
  return Math.min(MAX_WEEKS, Math.max(1, Math.round(rows / ROWS_PER_WEEK)));
}

function isIntegerIn(value: unknown, minimum: number, maximum: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= minimum && value <= maximum;
}

function checkContent(options: LgsrContentOptions, problems: ProblemCollector): ResolvedLgsrContentOptions {
  const rows = options.rows;
  const seed = options.seed ?? GENERATOR_DEFAULTS.seed;
  const variant = options.variant ?? GENERATOR_DEFAULTS.variant;
  const faultRate = options.faultRate ?? GENERATOR_DEFAULTS.faultRate;
  const startWeek = options.startWeek ?? GENERATOR_DEFAULTS.startWeek;
  const rowsValid = isIntegerIn(rows, 1, MAX_ROWS);
  problems.check(rowsValid, `rows must be an integer from 1 to ${MAX_ROWS}, got ${String(rows)}`);
  problems.check(typeof seed === 'number' && Number.isSafeInteger(seed) && seed >= 0, `seed must be a safe integer ≥ 0, got ${String(seed)}`);
  problems.check(variant === 'lgsr' || variant === 'seg', `variant must be 'lgsr' or 'seg', got '${String(variant)}'`);
  problems.check(
    typeof faultRate === 'number' && faultRate >= 0 && faultRate <= MAX_FAULT_RATE,
    `faultRate must be a number from 0 to ${MAX_FAULT_RATE}, got ${String(faultRate)}`,
  );
  problems.check(
    isIntegerIn(startWeek, 199_001, 209_952) && startWeek % 100 >= 1 && startWeek % 100 <= 52,
    `startWeek must be a fiscal week YYYYWW with WW from 01 to 52, got ${String(startWeek)}`,
  );
  const weeks = options.weeks ?? (rowsValid ? defaultWeeksFor(rows) : 1);
  problems.check(isIntegerIn(weeks, 1, MAX_WEEKS), `weeks must be an integer from 1 to ${MAX_WEEKS}, got ${String(weeks)}`);
  problems.check(!rowsValid || !(typeof weeks === 'number') || weeks <= rows, `weeks (${weeks}) must not exceed rows (${rows}): every week gets a row`);
  return { rows, seed, variant, faultRate, weeks, startWeek };
}

/** Validates content options; throws `InvalidOptionsError` listing every problem. */
export function resolveLgsrContentOptions(options: LgsrContentOptions): ResolvedLgsrContentOptions {
  const problems = new ProblemCollector('generator options');
  const resolved = checkContent(options, problems);
  problems.throwIfAny();
  return resolved;
}

/** Validates `generateLgsr` options; throws `InvalidOptionsError` listing every problem. */
export function resolveGenerateLgsrOptions(options: GenerateLgsrOptions): ResolvedGenerateLgsrOptions {
  const problems = new ProblemCollector('generator options');
  const content = checkContent(options, problems);
  const gzipLevel = options.gzipLevel ?? GENERATOR_DEFAULTS.gzipLevel;
  problems.check(typeof options.out === 'string' && options.out.trim() !== '', 'out must be a non-empty path');
  problems.check(isIntegerIn(gzipLevel, 0, 9), `gzipLevel must be an integer from 0 to 9, got ${String(gzipLevel)}`);
  problems.throwIfAny();
  return { ...content, out: options.out, gzipLevel, progress: options.progress ?? silentProgress };
}
