import type { DuckDBDataChunk } from '@duckdb/node-api';
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
 * same vocabularies as the serving path. One streamed query, one row per line, in gold order.
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
    const result = await own.connection.stream(`SELECT
        BASKET_ID::DOUBLE, SHOP_WEEK::INTEGER, coalesce(STORE_CODE[6:]::INTEGER, -1),
        ${position(VOCABULARIES.storeFormat, 'STORE_FORMAT')}, ${position(VOCABULARIES.storeRegion, 'STORE_REGION')},
        SHOP_WEEKDAY::INTEGER, SHOP_HOUR::INTEGER, ${position(VOCABULARIES.basketType, 'BASKET_TYPE')},
        ${position(VOCABULARIES.mission, 'BASKET_DOMINANT_MISSION')}, ${labelIndex},
        len(LINES)::INTEGER, l.PROD::INTEGER, l.PROD_10::INTEGER, l.PROD_20::INTEGER, l.PROD_30::INTEGER, l.PROD_40::INTEGER,
        l.QUANTITY::FLOAT, l.SPEND::FLOAT
      FROM (SELECT *, unnest(LINES) AS l FROM ${relation})`);
    let basket = -1;
    let line = 0;
    let remainingInBasket = 0;
    for (let chunk: DuckDBDataChunk | null = await result.fetchChunk(); chunk && chunk.rowCount > 0; chunk = await result.fetchChunk()) {
      const columns = Array.from({ length: 18 }, (_, index) => chunk!.getColumnVector(index));
      for (let row = 0; row < chunk.rowCount; row++) {
        if (remainingInBasket === 0) {
          basket += 1;
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
          remainingInBasket = columns[10].getItem(row) as number;
        }
        batch.product[line] = columns[11].getItem(row) as number;
        batch.product10[line] = columns[12].getItem(row) as number;
        batch.product20[line] = columns[13].getItem(row) as number;
        batch.product30[line] = columns[14].getItem(row) as number;
        batch.product40[line] = columns[15].getItem(row) as number;
        batch.quantity[line] = columns[16].getItem(row) as number;
        batch.spend[line] = columns[17].getItem(row) as number;
        line += 1;
        remainingInBasket -= 1;
      }
    }
    batch.lineStart[basketCount] = line;
    return { batch, basketIds };
  } finally {
    if (!session) own.close();
  }
}
