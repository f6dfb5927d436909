import type { DuckDBDataChunk, DuckDBListVector, DuckDBStructVector } from '@duckdb/node-api';
import { DuckDbSession, sqlString } from './duckdb';
import type { Lake } from './lake';
import { allocateBasketBatch, VOCABULARIES, type BasketBatch } from '../features/basket-batch';

/** Baskets read from gold, with their ids (BASKET_ID fits a double: 15 digits). */
export interface GoldBaskets {
  readonly batch: BasketBatch;
  readonly basketIds: Float64Array;
}

const position = (vocabulary: readonly string[], column: string): string =>
  `coalesce(list_position([${vocabulary.map(sqlString).join(', ')}], ${column}), 0)`;

/**
 * Reads gold baskets (optionally some weeks) into a BasketBatch, encoding categories with the
 * same vocabularies as the serving path. One streamed query, one row per basket, in gold order.
 */
export async function readGoldBaskets(lake: Lake, weeks?: readonly number[], session?: DuckDbSession): Promise<GoldBaskets> {
  const own = session ?? (await DuckDbSession.open());
  try {
    const relation = lake.goldSql(weeks);
    const counts = await own.rows<{ baskets: bigint; lines: bigint }>(`SELECT count(*) AS baskets, coalesce(sum(len(LINES)), 0) AS lines FROM ${relation}`);
    const basketCount = Number(counts[0].baskets);
    const batch = allocateBasketBatch(basketCount, Number(counts[0].lines));
    const basketIds = new Float64Array(basketCount);
    const labelIndex = 'coalesce(list_position([\'LA\', \'MM\', \'UM\'], BASKET_PRICE_SENSITIVITY), 0) - 1';
    // LINES stays a list: its struct fields are read from the list's flat child vectors (no unnest,
    // which would repeat every basket column once per line).
    const result = await own.connection.stream(`SELECT
        BASKET_ID::DOUBLE, SHOP_WEEK::INTEGER, coalesce(STORE_CODE[6:]::INTEGER, -1),
        ${position(VOCABULARIES.storeFormat, 'STORE_FORMAT')}, ${position(VOCABULARIES.storeRegion, 'STORE_REGION')},
        SHOP_WEEKDAY::INTEGER, SHOP_HOUR::INTEGER, ${position(VOCABULARIES.basketType, 'BASKET_TYPE')},
        ${position(VOCABULARIES.mission, 'BASKET_DOMINANT_MISSION')}, ${labelIndex},
        LINES::STRUCT(PROD INTEGER, PROD_10 SMALLINT, PROD_20 SMALLINT, PROD_30 SMALLINT, PROD_40 SMALLINT, QUANTITY FLOAT, SPEND FLOAT)[]
      FROM ${relation}`);
    let basket = 0;
    let line = 0;
    for (let chunk: DuckDBDataChunk | null = await result.fetchChunk(); chunk && chunk.rowCount > 0; chunk = await result.fetchChunk()) {
      const columns = Array.from({ length: 10 }, (_, index) => chunk!.getColumnVector(index));
      const lines = chunk.getColumnVector(10) as DuckDBListVector;
      const fields = lines.childVector as DuckDBStructVector;
      const [product, product10, product20, product30, product40, quantity, spend] = Array.from({ length: 7 }, (_, index) => fields.entryVectorAt(index));
      for (let row = 0; row < chunk.rowCount; row++, basket++) {
        basketIds[basket] = columns[0].getItem(row) as number;
        batch.week[basket] = columns[1].getItem(row) as number;
        batch.storeNumber[basket] = columns[2].getItem(row) as number;
        batch.storeFormat[basket] = columns[3].getItem(row) as number;
        batch.storeRegion[basket] = columns[4].getItem(row) as number;
        batch.weekday[basket] = columns[5].getItem(row) as number;
        batch.hour[basket] = columns[6].getItem(row) as number;
        batch.basketType[basket] = columns[7].getItem(row) as number;
        batch.mission[basket] = columns[8].getItem(row) as number;
        batch.label[basket] = columns[9].getItem(row) as number;
        batch.lineStart[basket] = line;
        const first = lines.getEntryOffset(row);
        const end = first + lines.getEntryLength(row);
        for (let entry = first; entry < end; entry++, line++) {
          batch.product[line] = product.getItem(entry) as number;
          batch.product10[line] = product10.getItem(entry) as number;
          batch.product20[line] = product20.getItem(entry) as number;
          batch.product30[line] = product30.getItem(entry) as number;
          batch.product40[line] = product40.getItem(entry) as number;
          batch.quantity[line] = quantity.getItem(entry) as number;
          batch.spend[line] = spend.getItem(entry) as number;
        }
      }
    }
    batch.lineStart[basketCount] = line;
    return { batch, basketIds };
  } finally {
    if (!session) own.close();
  }
}
