/**
 * The seeded LGSR generator: synthetic transactions in the release's format and with its facts
 * (code tree, stores, fiscal weeks, basket sizes/types/missions, label shares, the XX cases, two
 * header variants) and the mechanism the models learn (a latent price tier per product; the basket
 * label follows from its products). Optional faults give ingest something to quarantine.
 *
 * `planLgsr` prepares a run and synthesizes any week on demand (weeks are independent random
 * streams); `generateLgsr` streams a run to `.csv`, `.csv.gz` or a directory of week files.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { InvalidOptionsError } from '../errors';
import { synthesizeWeek } from './basket-synthesis';
import { apportion, createCatalog, type Catalog } from './catalog';
import {
  MAX_FAULT_RATE,
  outputFormatOf,
  resolveGenerateLgsrOptions,
  resolveLgsrContentOptions,
  type GenerateLgsrOptions,
  type LgsrContentOptions,
  type OutputFormat,
  type ResolvedLgsrContentOptions,
} from './generator-options';
import { LgsrRowFormatter, type TextChunk } from './row-formatting';
import { SeededRandom } from './seeded-random';
import { fiscalWeekOf, fiscalWeekStart, type HeaderVariant } from '../schema/lgsr';
import { ROW_FAULTS, type RowFault } from '../schema/quarantine';

const WEEK_MS = 7 * 86_400_000;
/** Week streams are numbered from here (the catalog uses the low stream numbers). */
const FIRST_WEEK_STREAM = 1000;
const AVERAGE_LINES_PER_BASKET = 6.6;
const CARDED_BASKET_SHARE = 0.8;
const BASKETS_PER_CUSTOMER = 12;
const MIN_CUSTOMERS = 200;

/** The SHOP_WEEK `offset` weeks after `startWeek` on the fiscal calendar. */
export function shopWeekAfter(startWeek: number, offset: number): number {
  return fiscalWeekOf(fiscalWeekStart(startWeek) + offset * WEEK_MS);
}

/**
 * Relative trading volume of a fiscal week (WW): a gentle yearly wave, the Christmas peak in the
 * week before Christmas (fiscal week 43) and the dip after it.
 */
export function seasonalWeight(shopWeek: number): number {
  const week = shopWeek % 100;
  const yearly = 0.05 * Math.sin((2 * Math.PI * (week - 10)) / 52);
  const christmas = 0.3 * Math.exp(-(((week - 43) / 1.2) ** 2));
  const afterChristmas = -0.15 * Math.exp(-(((week - 44.5) / 0.7) ** 2));
  return 1 + yearly + christmas + afterChristmas;
}

/** A fault count per kind, every kind present. */
export type FaultCounts = Record<RowFault, number>;

export function emptyFaultCounts(): FaultCounts {
  return Object.fromEntries(ROW_FAULTS.map((kind) => [kind, 0])) as FaultCounts;
}

/** One synthesized week: its totals, and its rows as text on demand. */
export interface LgsrWeek {
  readonly shopWeek: number;
  readonly rows: number;
  readonly baskets: number;
  readonly faults: Readonly<FaultCounts>;
  /** The week's rows, no header, in chunks of about 1 MiB (Latin-1 text). */
  chunks(): Generator<TextChunk>;
}

/** A prepared run: which weeks, how many rows each, and the header. */
export interface LgsrPlan {
  readonly options: ResolvedLgsrContentOptions;
  /** Header line, `\n` included. */
  readonly header: string;
  /** The SHOP_WEEKs in order. */
  readonly shopWeeks: readonly number[];
  /** Rows of each week (seasonal; they sum to `options.rows`). */
  readonly rowsPerWeek: readonly number[];
  /** Synthesizes week `index` (0-based); weeks are independent, so any order gives the same week. */
  week(index: number): LgsrWeek;
}

function customerCountFor(rows: number): number {
  return Math.max(MIN_CUSTOMERS, Math.round((rows / AVERAGE_LINES_PER_BASKET) * CARDED_BASKET_SHARE / BASKETS_PER_CUSTOMER));
}

/** Validates the options and prepares a run (builds the catalog: products, stores, customers). */
export function planLgsr(options: LgsrContentOptions): LgsrPlan {
  const resolved = resolveLgsrContentOptions(options);
  const catalog: Catalog = createCatalog(resolved.seed, customerCountFor(resolved.rows));
  const formatter = new LgsrRowFormatter(catalog, resolved.variant);
  const shopWeeks = Array.from({ length: resolved.weeks }, (_unused, offset) => shopWeekAfter(resolved.startWeek, offset));
  const rowsPerWeek = apportion(
    resolved.rows,
    shopWeeks.map(seasonalWeight),
    shopWeeks.map(() => 1),
  );
  const rate = Math.min(resolved.faultRate, MAX_FAULT_RATE);
  const faultsPerCleanLine = rate / (1 - rate);
  return {
    options: resolved,
    header: formatter.header,
    shopWeeks,
    rowsPerWeek,
    week(index) {
      const shopWeek = shopWeeks[index];
      const random = SeededRandom.forStream(resolved.seed, FIRST_WEEK_STREAM + index);
      // each week starts the fault kinds at its own place, so weeks stay independent yet kinds even
      const baskets = synthesizeWeek({ catalog, faultsPerCleanLine, faultCursor: { next: index } }, random, rowsPerWeek[index]);
      const faults = emptyFaultCounts();
      for (const basket of baskets) for (const fault of basket.faults) faults[fault.kind]++;
      return {
        shopWeek,
        rows: rowsPerWeek[index],
        baskets: baskets.length,
        faults,
        chunks: () => formatter.weekChunks(shopWeek, baskets),
      };
    },
  };
}

/**
 * The whole run as one text (header first), for small in-memory uses such as tests. Latin-1: turn
 * it into the file's bytes with `Buffer.from(text, 'latin1')` (an `invalid_utf8` fault is two raw bytes).
 */
export function generateLgsrText(options: LgsrContentOptions): string {
  const plan = planLgsr(options);
  let text = plan.header;
  plan.shopWeeks.forEach((_shopWeek, index) => {
    for (const chunk of plan.week(index).chunks()) text += chunk.text;
  });
  return text;
}

/** What `generateLgsr` wrote. */
export interface GenerateLgsrResult {
  /** The `out` path as given. */
  readonly out: string;
  readonly format: OutputFormat;
  /** Files written, in week order. */
  readonly paths: readonly string[];
  /** Data rows written (clean plus faulty), headers not counted. */
  readonly rows: number;
  readonly baskets: number;
  readonly weeks: number;
  readonly files: number;
  readonly firstWeek: number;
  readonly lastWeek: number;
  readonly variant: HeaderVariant;
  readonly seed: number;
  /** Faulty rows written, per kind (every kind listed). */
  readonly faults: Readonly<FaultCounts>;
}

/** `transactions_YYYYWW.csv`, as in the release. */
export function weekFileName(shopWeek: number): string {
  return `transactions_${shopWeek}.csv`;
}

/**
 * Writes Latin-1 chunks to `target` (gzip-compressed when `gzipLevel` is given) through a temporary
 * file renamed into place at the end, so a failed run leaves no half-written file under the name.
 */
async function writeChunks(target: string, chunks: Iterable<string>, gzipLevel: number | undefined): Promise<void> {
  const temporary = `${target}.partial-${process.pid}`;
  const buffers = Readable.from(
    (function* toBuffers() {
      for (const text of chunks) yield Buffer.from(text, 'latin1');
    })(),
  );
  try {
    if (gzipLevel === undefined) await pipeline(buffers, createWriteStream(temporary));
    else await pipeline(buffers, createGzip({ level: gzipLevel }), createWriteStream(temporary));
    await rename(temporary, target);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/**
 * Generates a run and writes it to `options.out`: `.csv`, `.csv.gz`, or a directory of
 * `transactions_YYYYWW.csv`. Streams week by week; memory holds one week at a time.
 */
export async function generateLgsr(options: GenerateLgsrOptions): Promise<GenerateLgsrResult> {
  const resolved = resolveGenerateLgsrOptions(options);
  const plan = planLgsr(resolved);
  const format = outputFormatOf(resolved.out);
  const progress = resolved.progress;
  const faults = emptyFaultCounts();
  let rows = 0;
  let baskets = 0;

  function* weekTexts(index: number, withHeader: boolean): Generator<string> {
    const week = plan.week(index);
    baskets += week.baskets;
    for (const kind of ROW_FAULTS) faults[kind] += week.faults[kind];
    if (withHeader) yield plan.header;
    for (const chunk of week.chunks()) {
      rows += chunk.rows;
      progress.update(rows);
      yield chunk.text;
    }
  }

  const paths: string[] = [];
  progress.start('generate', resolved.rows, 'rows');
  try {
    if (format === 'directory') {
      await mkdir(resolved.out, { recursive: true });
      const existing = await readdir(resolved.out);
      if (existing.length > 0) throw new InvalidOptionsError('generator options', [`out directory ${resolved.out} is not empty`]);
      for (let index = 0; index < plan.shopWeeks.length; index++) {
        const target = path.join(resolved.out, weekFileName(plan.shopWeeks[index]));
        await writeChunks(target, weekTexts(index, true), undefined);
        paths.push(target);
      }
    } else {
      await mkdir(path.dirname(path.resolve(resolved.out)), { recursive: true });
      const allWeeks = function* allWeeks(): Generator<string> {
        for (let index = 0; index < plan.shopWeeks.length; index++) yield* weekTexts(index, index === 0);
      };
      await writeChunks(resolved.out, allWeeks(), format === 'csv.gz' ? resolved.gzipLevel : undefined);
      paths.push(resolved.out);
    }
  } finally {
    progress.stop();
  }
  return {
    out: resolved.out,
    format,
    paths,
    rows,
    baskets,
    weeks: plan.shopWeeks.length,
    files: paths.length,
    firstWeek: plan.shopWeeks[0],
    lastWeek: plan.shopWeeks[plan.shopWeeks.length - 1],
    variant: resolved.variant,
    seed: resolved.seed,
    faults,
  };
}
