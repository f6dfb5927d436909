import {
  BASKET_MISSIONS,
  BASKET_TYPES,
  PRICE_SENSITIVITY_CLASSES,
  STORE_FORMATS,
  STORE_REGIONS,
  type Basket,
} from '../schema/lgsr';

/**
 * Baskets in columns: what the feature function reads, whether the baskets come from the lake's
 * gold layer (batch) or from one API request (server). Categories are small integer codes (index
 * into the vocabularies below + 1; 0 = unknown), product codes their numeric parts.
 */
export interface BasketBatch {
  readonly size: number;
  /** Per basket. */
  readonly storeNumber: Int32Array;
  readonly storeFormat: Uint8Array;
  readonly storeRegion: Uint8Array;
  readonly weekday: Uint8Array;
  readonly hour: Uint8Array;
  readonly basketType: Uint8Array;
  readonly mission: Uint8Array;
  /** Class index (0 LA, 1 MM, 2 UM), -1 for XX or unknown. */
  readonly label: Int8Array;
  readonly week: Int32Array;
  /** BASKET_ID (15 digits fit a double exactly), NaN when unknown (an API basket sent without one). */
  readonly basketId: Float64Array;
  /** Line range of basket b: lineStart[b] … lineStart[b + 1] - 1. */
  readonly lineStart: Int32Array;
  /** Per line. */
  readonly product: Int32Array;
  readonly product10: Int16Array;
  readonly product20: Int16Array;
  readonly product30: Int16Array;
  readonly product40: Int16Array;
  readonly quantity: Float32Array;
  readonly spend: Float32Array;
}

export const VOCABULARIES = {
  storeFormat: STORE_FORMATS,
  storeRegion: STORE_REGIONS,
  basketType: BASKET_TYPES,
  mission: BASKET_MISSIONS,
  label: PRICE_SENSITIVITY_CLASSES,
} as const;

/** 1-based index in the vocabulary, 0 when absent: the same code as SQL's list_position. */
export function categoryCode(vocabulary: readonly string[], value: string): number {
  return vocabulary.indexOf(value) + 1;
}

/** The numeric part of a code with a known prefix ('PRD0900001' → 900001); -1 when it has another form. */
export function codeNumber(code: string, prefix: string): number {
  if (!code.startsWith(prefix)) return -1;
  let value = 0;
  for (let index = prefix.length; index < code.length; index++) {
    const digit = code.charCodeAt(index) - 48;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return code.length > prefix.length ? value : -1;
}

/**
 * A category code as the Int16 columns hold it: codes beyond Int16 (which the schema's five digits
 * allow, but no code tree has: gold stores them as SMALLINT) are unknown (-1), not wrapped onto
 * another category.
 */
export function smallCode(code: number): number {
  return code <= 0x7fff ? code : -1;
}

/** Allocates a batch for `size` baskets and `lines` lines. */
export function allocateBasketBatch(size: number, lines: number): BasketBatch {
  return {
    size,
    storeNumber: new Int32Array(size),
    storeFormat: new Uint8Array(size),
    storeRegion: new Uint8Array(size),
    weekday: new Uint8Array(size),
    hour: new Uint8Array(size),
    basketType: new Uint8Array(size),
    mission: new Uint8Array(size),
    label: new Int8Array(size).fill(-1),
    week: new Int32Array(size),
    basketId: new Float64Array(size).fill(Number.NaN),
    lineStart: new Int32Array(size + 1),
    product: new Int32Array(lines),
    product10: new Int16Array(lines),
    product20: new Int16Array(lines),
    product30: new Int16Array(lines),
    product40: new Int16Array(lines),
    quantity: new Float32Array(lines),
    spend: new Float32Array(lines),
  };
}

/**
 * Baskets as the API receives them (LGSR names and text codes) → a batch. This is the serving
 * path's only conversion; the batch path's SQL encodes gold the same way (tests prove parity).
 */
export function basketBatchFromBaskets(baskets: readonly Basket[]): BasketBatch {
  let lines = 0;
  for (const basket of baskets) lines += basket.lines.length;
  const batch = allocateBasketBatch(baskets.length, lines);
  let line = 0;
  for (let index = 0; index < baskets.length; index++) {
    const { context, lines: basketLines } = baskets[index];
    batch.storeNumber[index] = codeNumber(context.STORE_CODE, 'STORE');
    batch.storeFormat[index] = categoryCode(VOCABULARIES.storeFormat, context.STORE_FORMAT);
    batch.storeRegion[index] = categoryCode(VOCABULARIES.storeRegion, context.STORE_REGION);
    batch.weekday[index] = context.SHOP_WEEKDAY;
    batch.hour[index] = context.SHOP_HOUR;
    batch.basketType[index] = categoryCode(VOCABULARIES.basketType, context.BASKET_TYPE);
    batch.mission[index] = categoryCode(VOCABULARIES.mission, context.BASKET_DOMINANT_MISSION);
    if (context.BASKET_ID !== undefined) batch.basketId[index] = Number(context.BASKET_ID);
    batch.lineStart[index] = line;
    for (const item of basketLines) {
      batch.product[line] = codeNumber(item.PROD_CODE, 'PRD');
      batch.product10[line] = smallCode(codeNumber(item.PROD_CODE_10, 'CL'));
      batch.product20[line] = smallCode(codeNumber(item.PROD_CODE_20, 'DEP'));
      batch.product30[line] = smallCode(codeNumber(item.PROD_CODE_30, 'G'));
      batch.product40[line] = smallCode(codeNumber(item.PROD_CODE_40, 'D'));
      batch.quantity[line] = item.QUANTITY;
      batch.spend[line] = item.SPEND;
      line += 1;
    }
  }
  batch.lineStart[baskets.length] = line;
  return batch;
}

/** Baskets `rows` of a batch as a new batch (e.g. the training weeks). */
export function selectBaskets(batch: BasketBatch, rows: ArrayLike<number>): BasketBatch {
  let lines = 0;
  for (let index = 0; index < rows.length; index++) lines += batch.lineStart[rows[index] + 1] - batch.lineStart[rows[index]];
  const selected = allocateBasketBatch(rows.length, lines);
  let line = 0;
  for (let index = 0; index < rows.length; index++) {
    const row = rows[index];
    selected.storeNumber[index] = batch.storeNumber[row];
    selected.storeFormat[index] = batch.storeFormat[row];
    selected.storeRegion[index] = batch.storeRegion[row];
    selected.weekday[index] = batch.weekday[row];
    selected.hour[index] = batch.hour[row];
    selected.basketType[index] = batch.basketType[row];
    selected.mission[index] = batch.mission[row];
    selected.label[index] = batch.label[row];
    selected.week[index] = batch.week[row];
    selected.basketId[index] = batch.basketId[row];
    selected.lineStart[index] = line;
    const from = batch.lineStart[row];
    const count = batch.lineStart[row + 1] - from;
    selected.product.set(batch.product.subarray(from, from + count), line);
    selected.product10.set(batch.product10.subarray(from, from + count), line);
    selected.product20.set(batch.product20.subarray(from, from + count), line);
    selected.product30.set(batch.product30.subarray(from, from + count), line);
    selected.product40.set(batch.product40.subarray(from, from + count), line);
    selected.quantity.set(batch.quantity.subarray(from, from + count), line);
    selected.spend.set(batch.spend.subarray(from, from + count), line);
    line += count;
  }
  selected.lineStart[rows.length] = line;
  return selected;
}
