/**
 * Turns a week of synthesized baskets into LGSR text, as the release writes it: comma-separated,
 * unquoted values, empty values as `""`, SPEND like `1.3` / `0.93` / `2.0`, `\n` line ends, rows of
 * a store together, the lines of a basket together. Faulty lines are written here too, each broken
 * in exactly one way. The text is Latin-1 (one char per byte): all of it is ASCII except the two raw
 * bytes of an `invalid_utf8` fault.
 */
import type { FaultLine, SynthesizedBasket } from './basket-synthesis';
import type { Catalog } from './catalog';
import {
  BASKET_MISSIONS,
  BASKET_TYPES,
  PRICE_SENSITIVITY_CLASSES,
  SEG1_CODES,
  SEG2_CODES,
  UNCLASSIFIED,
  columnsFor,
  fiscalWeekStart,
  shopWeekdayOf,
  toShopDate,
  type HeaderVariant,
} from '../schema/lgsr';
import type { RowFault } from '../schema/quarantine';

const DAY_MS = 86_400_000;
/** BASKET_PRICE_SENSITIVITY by label index (a PriceTier, or 3 for XX). */
const LABELS = [...PRICE_SENSITIVITY_CLASSES, UNCLASSIFIED];
const EMPTY_FIELD = '""';
/** BASKET_ID = 9941 + the week's ordinal (200607 = 001, 3 digits) + an 8-digit number within the week. */
const BASKET_ID_PREFIX = '9941';
const BASKET_NUMBER_SPACE = 100_000_000;
/** Odd and not a multiple of 5, so `sequence × stride mod 10^8` never repeats within a week. */
const BASKET_NUMBER_STRIDE = 48_271_723;
const FIRST_ORDINAL_WEEK = 200607;
/** Characters per emitted chunk (= bytes, Latin-1). */
const CHUNK_CHARS = 1_048_576;
/** The two raw bytes of an `invalid_utf8` fault: 0xC3 opens a two-byte sequence, 0x28 `(` cannot continue it. */
export const INVALID_UTF8_BYTES = '\u00c3(';

/** Field positions in a row (same in both header variants). */
const FIELD = { SHOP_DATE: 1, SHOP_WEEKDAY: 2, SHOP_HOUR: 3, QUANTITY: 4, SPEND: 5, PROD_CODE: 6, BASKET_DOMINANT_MISSION: 18 } as const;

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}

/** Spend in pence → the release's notation: `0.93`, `1.3`, `2.0`. */
export function formatSpend(cents: number): string {
  const pence = cents % 100;
  const pounds = (cents - pence) / 100;
  if (pence === 0) return `${pounds}.0`;
  if (pence % 10 === 0) return `${pounds}.${pence / 10}`;
  return `${pounds}.${pad(pence, 2)}`;
}

/** Week ordinal in BASKET_IDs: 200607 is 1, counting on (mod 1000) through the fiscal calendar. */
export function weekOrdinal(shopWeek: number): number {
  const weeks = Math.round((fiscalWeekStart(shopWeek) - fiscalWeekStart(FIRST_ORDINAL_WEEK)) / (7 * DAY_MS));
  return (((weeks + 1) % 1000) + 1000) % 1000;
}

/** The 15-digit BASKET_ID of the `sequence`-th basket of a week. */
export function basketIdFor(shopWeek: number, sequence: number): string {
  const offset = (shopWeek * 7919 * 104_729) % BASKET_NUMBER_SPACE;
  const number = (sequence * BASKET_NUMBER_STRIDE + offset) % BASKET_NUMBER_SPACE;
  return `${BASKET_ID_PREFIX}${pad(weekOrdinal(shopWeek), 3)}${pad(number, 8)}`;
}

export interface TextChunk {
  /** Latin-1 text: write it with `Buffer.from(text, 'latin1')`. */
  readonly text: string;
  /** Data rows in `text`. */
  readonly rows: number;
}

function invertCodes(codes: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(codes).map(([code, value]) => [value, code]));
}

export class LgsrRowFormatter {
  private readonly customerFields: readonly string[];
  private readonly quantityOneSpend: readonly string[];
  readonly header: string;

  constructor(
    private readonly catalog: Catalog,
    variant: HeaderVariant,
  ) {
    this.header = `${columnsFor(variant).join(',')}\n`;
    const sensitivityCode = variant === 'seg' ? invertCodes(SEG1_CODES) : undefined;
    const lifestageCode = variant === 'seg' ? invertCodes(SEG2_CODES) : undefined;
    this.customerFields = catalog.customers.map((customer) => {
      const sensitivity = sensitivityCode ? sensitivityCode[customer.sensitivity] : customer.sensitivity;
      const lifestage = customer.lifestage === '' ? EMPTY_FIELD : lifestageCode ? lifestageCode[customer.lifestage] : customer.lifestage;
      return `${customer.code},${sensitivity},${lifestage}`;
    });
    this.quantityOneSpend = catalog.products.map((product) => formatSpend(product.unitPriceCents));
  }

  /**
   * The rows of one week in chunks of about 1 MiB (no header), baskets sorted by store then
   * BASKET_ID, so the file reads like the release.
   */
  *weekChunks(shopWeek: number, baskets: readonly SynthesizedBasket[]): Generator<TextChunk> {
    const weekStart = fiscalWeekStart(shopWeek);
    const dayFields = Array.from({ length: 7 }, (_unused, day) => {
      const epoch = weekStart + day * DAY_MS;
      return { epoch, date: toShopDate(epoch), weekday: shopWeekdayOf(epoch) };
    });
    const ordered = baskets
      .map((basket) => ({ basket, id: basketIdFor(shopWeek, basket.sequence) }))
      .sort((left, right) => left.basket.store - right.basket.store || (left.id < right.id ? -1 : left.id > right.id ? 1 : 0));
    let text = '';
    let rows = 0;
    for (const { basket, id } of ordered) {
      const day = dayFields[basket.day];
      const prefix = `${shopWeek},${day.date},${day.weekday},${basket.hour},`;
      const customer = basket.customer < 0 ? `${EMPTY_FIELD},${EMPTY_FIELD},${EMPTY_FIELD}` : this.customerFields[basket.customer];
      const suffix = `,${customer},${id},${basket.size},${LABELS[basket.label]},${BASKET_TYPES[basket.type]},${BASKET_MISSIONS[basket.mission]},${this.catalog.stores[basket.store].fields}\n`;
      let nextFault = 0;
      for (let line = 0; line < basket.products.length; line++) {
        const cleanLine = this.lineText(prefix, suffix, basket.products[line], basket.quantities[line]);
        text += cleanLine;
        rows++;
        while (nextFault < basket.faults.length && basket.faults[nextFault].after === line) {
          const fault = basket.faults[nextFault++];
          text += fault.kind === 'duplicate_line' ? cleanLine : this.faultyLineText(fault, this.lineText(prefix, suffix, fault.product, fault.quantity), day.epoch);
          rows++;
        }
      }
      if (text.length >= CHUNK_CHARS) {
        yield { text, rows };
        text = '';
        rows = 0;
      }
    }
    if (rows > 0) yield { text, rows };
  }

  private lineText(prefix: string, suffix: string, productIndex: number, quantity: number): string {
    const product = this.catalog.products[productIndex];
    const spend = quantity === 1 ? this.quantityOneSpend[productIndex] : formatSpend(product.unitPriceCents * quantity);
    return `${prefix}${quantity},${spend},${product.codeFields}${suffix}`;
  }

  /** A clean line broken in exactly the one way its fault kind names. */
  private faultyLineText(fault: FaultLine, cleanLine: string, dayEpoch: number): string {
    const fields = cleanLine.slice(0, -1).split(',');
    const variant = fault.variant;
    const breakers: Record<Exclude<RowFault, 'duplicate_line'>, () => void> = {
      bad_date: () => {
        const date = Number(fields[FIELD.SHOP_DATE]);
        const year = Math.floor(date / 10_000);
        const month = pad(Math.floor(date / 100) % 100, 2);
        fields[FIELD.SHOP_DATE] = [`${year}0231`, `${year}1301`, `${year}${month}32`, `${year}${month}00`][variant % 4];
      },
      date_not_in_week: () => {
        // whole weeks away, so SHOP_WEEKDAY still agrees with the date: only the week is wrong
        const shiftDays = [-14, -7, 7, 14][variant % 4];
        fields[FIELD.SHOP_DATE] = String(toShopDate(dayEpoch + shiftDays * DAY_MS));
      },
      negative_spend: () => {
        fields[FIELD.SPEND] = `-${fields[FIELD.SPEND]}`;
      },
      non_numeric: () => {
        if (variant % 3 === 0) fields[FIELD.SPEND] = `${fields[FIELD.SPEND]}x`;
        else if (variant % 3 === 1) fields[FIELD.SPEND] = `${fields[FIELD.SPEND]}.5`;
        else fields[FIELD.QUANTITY] = `${fields[FIELD.QUANTITY]}x`;
      },
      unknown_code: () => {
        fields[FIELD.PROD_CODE] = variant % 2 === 0 ? `PRX${pad(fault.product % 100_000, 5)}` : `PRD${pad(fault.product, 5)}`;
      },
      wrong_column_count: () => {
        if (variant % 3 === 0) fields.pop();
        else if (variant % 3 === 1) fields.push(EMPTY_FIELD);
        else fields.splice(FIELD.SHOP_HOUR, 1);
      },
      invalid_utf8: () => {
        const mission = fields[FIELD.BASKET_DOMINANT_MISSION];
        fields[FIELD.BASKET_DOMINANT_MISSION] = `${mission.slice(0, 1)}${INVALID_UTF8_BYTES}${mission.slice(1)}`;
      },
    };
    breakers[fault.kind as Exclude<RowFault, 'duplicate_line'>]();
    return `${fields.join(',')}\n`;
  }
}
