import type { DuckDBDataChunk, DuckDBListVector, DuckDBStructVector } from '@duckdb/node-api';
import { DuckDbSession, sqlString } from './duckdb';
import { copyNumericColumn } from './duckdb-columns';
import type { Lake } from './lake';
import { allocateBasketBatch, VOCABULARIES, type BasketBatch } from '../features/basket-batch';

/** Baskets read from gold, with their ids (BASKET_ID fits a double: 15 digits). */
export interface GoldBaskets {
  readonly batch: BasketBatch;
  readonly basketIds: Float64Array;
}

const position = (vocabulary: readonly string[], column: string): string =>
  `coalesce(list_position([${vocabulary.map(sqlString).join(', ')}], ${column}), 0)`;

export interface GoldReadOptions {
  /**
   * The baskets in SHOP_WEEK, BASKET_ID order (a basket id is unique in a lake), so the same data
   * gives the same rows in the same order however it was ingested: DuckDB writes gold's rows in an
   * order that varies from one ingest to the next, and out-of-fold folds, samples and so the models
   * follow the row order. Without it, the files' order (cheaper; for readers to whom order does not
   * matter, like batch scoring).
   * @default true
   */
  readonly ordered?: boolean;
}

/**
 * Reads gold baskets (optionally some weeks) into a BasketBatch, encoding categories with the
 * same vocabularies as the serving path. One streamed query, one row per basket, in SHOP_WEEK,
 * BASKET_ID order unless told otherwise; each basket's lines in a canonical order (`sortLinesOfBaskets`).
 */
export async function readGoldBaskets(lake: Lake, weeks?: readonly number[], session?: DuckDbSession, options: GoldReadOptions = {}): Promise<GoldBaskets> {
  return readGoldRelation(lake.goldSql(weeks), session, options);
}

/** As readGoldBaskets, from a DuckDB relation over gold files (`Lake.goldSql`), e.g. in a worker that has no Lake. */
export async function readGoldRelation(relation: string, session?: DuckDbSession, options: GoldReadOptions = {}): Promise<GoldBaskets> {
  const ordered = options.ordered ?? true;
  const own = session ?? (await DuckDbSession.open());
  try {
    // gold's LINE_COUNT is len(LINES) (one GROUP BY builds both) and is a small column to scan
    const counts = await own.rows<{ baskets: bigint; lines: bigint }>(`SELECT count(*) AS baskets, coalesce(sum(LINE_COUNT), 0) AS lines FROM ${relation}`);
    const basketCount = Number(counts[0].baskets);
    const lineCount = Number(counts[0].lines);
    const batch = allocateBasketBatch(basketCount, lineCount);
    const basketIds = batch.basketId;
    const labelIndex = 'coalesce(list_position([\'LA\', \'MM\', \'UM\'], BASKET_PRICE_SENSITIVITY), 0) - 1';
    // Every column is non-NULL (coalesced here; LINES' fields are checked codes), so whole vectors are
    // copied at once. LINES stays a list: its struct fields come from the list's flat child vectors
    // (no unnest, which would repeat every basket column once per line).
    const result = await own.connection.stream(`SELECT
        BASKET_ID::DOUBLE, SHOP_WEEK::INTEGER, coalesce(STORE_CODE[6:]::INTEGER, -1),
        ${position(VOCABULARIES.storeFormat, 'STORE_FORMAT')}, ${position(VOCABULARIES.storeRegion, 'STORE_REGION')},
        coalesce(SHOP_WEEKDAY, 0)::INTEGER, coalesce(SHOP_HOUR, 0)::INTEGER, ${position(VOCABULARIES.basketType, 'BASKET_TYPE')},
        ${position(VOCABULARIES.mission, 'BASKET_DOMINANT_MISSION')}, ${labelIndex}, LINES
      FROM ${relation}${ordered ? ' ORDER BY SHOP_WEEK, BASKET_ID' : ''}`);
    const basketColumns = [basketIds, batch.week, batch.storeNumber, batch.storeFormat, batch.storeRegion, batch.weekday, batch.hour, batch.basketType, batch.mission, batch.label];
    const lineColumns = [batch.product, batch.product10, batch.product20, batch.product30, batch.product40, batch.quantity, batch.spend];
    let basket = 0;
    let line = 0;
    for (let chunk: DuckDBDataChunk | null = await result.fetchChunk(); chunk && chunk.rowCount > 0; chunk = await result.fetchChunk()) {
      const rows = chunk.rowCount;
      if (basket + rows > basketCount) throw new Error(`gold changed while it was read: more than ${basketCount} baskets`);
      basketColumns.forEach((target, column) => copyNumericColumn(chunk!.getColumnVector(column), 0, rows, target, basket));
      const lines = chunk.getColumnVector(10) as DuckDBListVector;
      const fields = lines.childVector as DuckDBStructVector;
      const first = rows > 0 ? lines.getEntryOffset(0) : 0;
      let next = first;
      let contiguous = true;
      for (let row = 0; row < rows; row++) {
        batch.lineStart[basket + row] = line + (next - first);
        if (lines.getEntryOffset(row) !== next) contiguous = false;
        next = lines.getEntryOffset(row) + lines.getEntryLength(row);
      }
      if (line + (next - first) > lineCount) throw new Error(`gold's LINE_COUNT disagrees with its LINES (more than ${lineCount} lines)`);
      if (contiguous) {
        lineColumns.forEach((target, field) => copyNumericColumn(fields.entryVectorAt(field), first, next - first, target, line));
      } else {
        // a scan hands lists out in order; should one not, copy list by list
        let at = line;
        for (let row = 0; row < rows; row++) {
          batch.lineStart[basket + row] = at;
          const offset = lines.getEntryOffset(row);
          const length = lines.getEntryLength(row);
          lineColumns.forEach((target, field) => copyNumericColumn(fields.entryVectorAt(field), offset, length, target, at));
          at += length;
        }
        next = first + (at - line);
      }
      line += next - first;
      basket += rows;
    }
    if (basket !== basketCount || line !== lineCount) throw new Error(`gold changed while it was read: ${basket} baskets and ${line} lines, expected ${basketCount} and ${lineCount}`);
    batch.lineStart[basketCount] = line;
    sortLinesOfBaskets(batch);
    return { batch, basketIds };
  } finally {
    if (!session) own.close();
  }
}

/**
 * Puts each basket's lines in a canonical order: by product code, then quantity, then spend (a
 * product's other codes follow from its code). Gold's LINES hold a basket's lines in the order
 * DuckDB's parallel GROUP BY met them, which can change between two ingests of the same file, and
 * the features sum over lines in float arithmetic, so their last bits follow the order.
 */
function sortLinesOfBaskets(batch: BasketBatch): void {
  const { lineStart, product, quantity, spend } = batch;
  const columns = [batch.product, batch.product10, batch.product20, batch.product30, batch.product40, batch.quantity, batch.spend];
  const before = (a: number, b: number): boolean =>
    product[a] < product[b] || (product[a] === product[b] && (quantity[a] < quantity[b] || (quantity[a] === quantity[b] && spend[a] < spend[b])));
  let order = new Int32Array(64);
  let scratch = new Float64Array(64);
  for (let basket = 0; basket < batch.size; basket++) {
    const start = lineStart[basket];
    const end = lineStart[basket + 1];
    let sorted = true;
    for (let line = start + 1; line < end && sorted; line++) sorted = !before(line, line - 1);
    if (sorted) continue;
    const count = end - start;
    if (order.length < count) {
      order = new Int32Array(2 * count);
      scratch = new Float64Array(2 * count);
    }
    // a stable insertion sort of the line numbers (baskets hold a few lines; ties keep their order)
    for (let index = 0; index < count; index++) {
      const line = start + index;
      let place = index;
      while (place > 0 && before(line, order[place - 1])) {
        order[place] = order[place - 1];
        place--;
      }
      order[place] = line;
    }
    for (const column of columns) {
      for (let index = 0; index < count; index++) scratch[index] = column[order[index]];
      for (let index = 0; index < count; index++) column[start + index] = scratch[index];
    }
  }
}

/** Labels of baskets by id: what `readGoldLabels` finds for each id it was asked about. */
export const LABEL_NOT_FOUND = -2;

/**
 * The labels gold holds for some basket ids (predictions whose labels were ingested later): per id of
 * `basketIds`, its class index, -1 for an unclassified (XX) basket, LABEL_NOT_FOUND when gold has no
 * such basket (or the id is NaN). One streamed scan of two gold columns.
 */
export async function readGoldLabels(lake: Lake, basketIds: Float64Array, session?: DuckDbSession): Promise<Int8Array> {
  const labels = new Int8Array(basketIds.length).fill(LABEL_NOT_FOUND);
  const rowsOf = new Map<number, number[]>();
  basketIds.forEach((id, row) => {
    if (Number.isNaN(id)) return;
    const rows = rowsOf.get(id);
    if (rows) rows.push(row);
    else rowsOf.set(id, [row]);
  });
  if (rowsOf.size === 0 || lake.manifest.gold.length === 0) return labels;
  const own = session ?? (await DuckDbSession.open());
  try {
    const labelIndex = 'coalesce(list_position([\'LA\', \'MM\', \'UM\'], BASKET_PRICE_SENSITIVITY), 0) - 1';
    const result = await own.connection.stream(`SELECT BASKET_ID::DOUBLE, (${labelIndex})::TINYINT FROM ${lake.goldSql()}`);
    for (let chunk: DuckDBDataChunk | null = await result.fetchChunk(); chunk && chunk.rowCount > 0; chunk = await result.fetchChunk()) {
      const ids = new Float64Array(chunk.rowCount);
      const classes = new Int8Array(chunk.rowCount);
      copyNumericColumn(chunk.getColumnVector(0), 0, chunk.rowCount, ids, 0);
      copyNumericColumn(chunk.getColumnVector(1), 0, chunk.rowCount, classes, 0);
      for (let index = 0; index < chunk.rowCount; index++) {
        const rows = rowsOf.get(ids[index]);
        if (rows) for (const row of rows) labels[row] = classes[index];
      }
    }
    return labels;
  } finally {
    if (!session) own.close();
  }
}
