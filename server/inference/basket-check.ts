/**
 * A fast yes/no check of parsed request bodies against exactly the constraints of the API's zod
 * schemas (schemas.ts), without allocating. The prediction workers run it first: when it says yes,
 * the body is used as parsed (zod would accept it and return the same fields); when it says no, zod
 * runs and reports every violation. So zod stays the definition, this only skips its cost on the
 * common, valid case (a third of a worker's time per basket). A differential test
 * (tests/server/basket-check.test.ts) holds the two to the same answers.
 */
import { BASKET_MISSIONS, BASKET_TYPES, CODE_PATTERNS, STORE_FORMATS, STORE_REGIONS, type Basket } from '../../core/schema/lgsr';
import { MAX_QUANTITY, MAX_SPEND, type RequestLimits } from '../schemas';

const storeFormats = new Set<unknown>(STORE_FORMATS);
const storeRegions = new Set<unknown>(STORE_REGIONS);
const basketTypes = new Set<unknown>(BASKET_TYPES);
const missions = new Set<unknown>(BASKET_MISSIONS);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isIntegerIn(value: unknown, minimum: number, maximum: number): boolean {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= minimum && value <= maximum;
}

function matches(value: unknown, pattern: RegExp): boolean {
  return typeof value === 'string' && pattern.test(value);
}

function isValidLine(line: unknown): boolean {
  if (!isObject(line)) return false;
  const spend = line.SPEND;
  return (
    matches(line.PROD_CODE, CODE_PATTERNS.PROD_CODE) &&
    matches(line.PROD_CODE_10, CODE_PATTERNS.PROD_CODE_10) &&
    matches(line.PROD_CODE_20, CODE_PATTERNS.PROD_CODE_20) &&
    matches(line.PROD_CODE_30, CODE_PATTERNS.PROD_CODE_30) &&
    matches(line.PROD_CODE_40, CODE_PATTERNS.PROD_CODE_40) &&
    isIntegerIn(line.QUANTITY, 1, MAX_QUANTITY) &&
    typeof spend === 'number' &&
    Number.isFinite(spend) &&
    spend >= 0 &&
    spend <= MAX_SPEND
  );
}

/** Whether zod's basket schema accepts `value` (then `value` can be used as the parsed basket). */
export function isValidBasket(value: unknown, limits: RequestLimits): value is Basket {
  if (!isObject(value)) return false;
  const context = value.context;
  if (!isObject(context)) return false;
  if (
    !matches(context.STORE_CODE, CODE_PATTERNS.STORE_CODE) ||
    !storeFormats.has(context.STORE_FORMAT) ||
    !storeRegions.has(context.STORE_REGION) ||
    !isIntegerIn(context.SHOP_WEEKDAY, 1, 7) ||
    !isIntegerIn(context.SHOP_HOUR, 0, 23) ||
    !basketTypes.has(context.BASKET_TYPE) ||
    !missions.has(context.BASKET_DOMINANT_MISSION) ||
    (context.BASKET_ID !== undefined && !matches(context.BASKET_ID, CODE_PATTERNS.BASKET_ID))
  ) {
    return false;
  }
  const lines = value.lines;
  if (!Array.isArray(lines) || lines.length < 1 || lines.length > limits.maxLinesPerBasket) return false;
  for (let index = 0; index < lines.length; index++) if (!isValidLine(lines[index])) return false;
  return true;
}

/** Whether zod's batch schema accepts `value`. */
export function isValidBatch(value: unknown, limits: RequestLimits): value is { readonly baskets: readonly Basket[] } {
  if (!isObject(value)) return false;
  const baskets = value.baskets;
  if (!Array.isArray(baskets) || baskets.length < 1 || baskets.length > limits.maxBasketsPerBatch) return false;
  for (let index = 0; index < baskets.length; index++) if (!isValidBasket(baskets[index], limits)) return false;
  return true;
}
