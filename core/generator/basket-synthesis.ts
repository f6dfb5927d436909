/**
 * Draws one week of baskets from the catalog. The price-sensitivity label is not drawn: it follows
 * from the products, as in the real data. A shopper (a customer, or an anonymous shopper of the
 * store's neighbourhood) has an affluence tier; the trip's tier leans on it, on the mission and on
 * the basket size; lines lean towards products of the trip's tier; the label follows the basket rule
 * measured on the real data (the share of UM minus LA lines, thresholded), with a little noise. So
 * the products' tiers carry the signal (per-product, and weaker per-category, label statistics find
 * it), and the basket's context only a little of it.
 */
import type { Catalog, MissionIndex, PriceTier } from './catalog';
import { shopperTierAt } from './catalog';
import { SeededRandom, WeightedChoice } from './seeded-random';
import { basketSizeFor } from '../schema/lgsr';
import { ROW_FAULTS, type RowFault } from '../schema/quarantine';

/** Basket types as indexes into BASKET_TYPES. */
const SMALL_SHOP = 0;
const TOP_UP = 1;
const FULL_SHOP = 2;
const TYPE_UNCLASSIFIED = 3;
const MISSION_NONFOOD: MissionIndex = 3;
const MISSION_UNCLASSIFIED: MissionIndex = 4;

/** Labels are PriceTier indexes, or this for XX (unclassified). */
export const LABEL_UNCLASSIFIED = 3;

const TYPE_CHOICE = new WeightedChoice([55, 33, 11, 1]);
/** Mission (Fresh, Mixed, Grocery, Nonfood) by basket type, from the real sample; type XX has mission XX. */
const MISSION_CHOICE_BY_TYPE = [
  new WeightedChoice([54.2, 11.7, 25.7, 8.4]),
  new WeightedChoice([53.9, 32.8, 12.2, 1.1]),
  new WeightedChoice([39.9, 55.5, 4.6, 0.05]),
];
const SIZES = ['S', 'M', 'L'] as const;
/** BASKET_SIZE (S, M, L) by basket type: a Full Shop is always large. */
const SIZE_CHOICE_BY_TYPE = [
  new WeightedChoice([47.3, 52.6, 0.1]),
  new WeightedChoice([0, 35.6, 64.4]),
  new WeightedChoice([0, 0, 1]),
  new WeightedChoice([74, 25, 1]),
];
/** Items in a medium basket: 3…9. */
const MEDIUM_ITEMS_CHOICE = new WeightedChoice([24, 19, 15, 13, 11, 9.5, 8.5]);
/** Items above 10 in a large basket: median and log-spread by basket type. */
const LARGE_EXTRA_ITEMS = [
  { median: 1.5, sigma: 0.6 },
  { median: 4, sigma: 0.9 },
  { median: 14, sigma: 0.6 },
  { median: 1, sigma: 0.5 },
];
const LARGE_ITEMS_MAX = 200;
/** Line quantities: 1 most of the time, never 2 (as in the release), a tail to 14. */
const QUANTITIES = [1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14];
const QUANTITY_CHOICE = new WeightedChoice([76, 19.5, 2.6, 0.4, 0.7, 0.2, 0.2, 0.14, 0.05, 0.04, 0.03, 0.02], QUANTITIES);
/** Share of baskets by hour 8…21 (evening peak at 21, as in the release). */
const FIRST_HOUR = 8;
const HOUR_CHOICE = new WeightedChoice([4.2, 3.4, 5.1, 6.6, 7.8, 9.8, 9.3, 8.7, 8.7, 8.5, 6.8, 5.6, 5.0, 10.5]);

const ANONYMOUS_SHARE = 0.2;
const SHOPS_AT_HOME_STORE = 0.75;

/** How a shopper's trip tier leans on their own affluence tier (rows: LA, MM, UM shopper). */
const TRIP_TIER_BY_SHOPPER = [
  [0.78, 0.18, 0.04],
  [0.1, 0.78, 0.12],
  [0.03, 0.22, 0.75],
];
/** Trip-tier tilt by mission (Fresh, Mixed, Grocery, Nonfood, XX): fresh trips buy up, grocery trips down. */
const TRIP_TIER_TILT_BY_MISSION = [
  [0.87, 0.95, 1.25],
  [1.27, 0.95, 0.85],
  [1.1, 1.18, 0.63],
  [0.93, 1.24, 0.7],
  [1, 1, 1],
];
/** Trip-tier tilt by size (S, M, L): most trips are mid-market, trips for one or two items most of all. */
const TRIP_TIER_TILT_BY_SIZE = [
  [0.35, 2.3, 0.35],
  [0.55, 2.4, 0.55],
  [0.55, 2.3, 0.55],
];
/**
 * The tier of a line's product by the trip's tier (rows: LA, MM, UM trip; columns: LA, MM, UM line),
 * for small (1–2 items) and for larger baskets, so that baskets mix tiers as the real ones do: in the
 * real sample's baskets of three lines or more, an LA basket's lines are about 52% LA, 41% MM, 7% UM
 * products, an MM basket's 22/57/21, a UM basket's 8/44/49 (tiers inferred by
 * core/features/price-tiers.ts), while two thirds of the one-line baskets are MM.
 */
const LINE_TIER_BY_TRIP = {
  small: [new WeightedChoice([0.7, 0.27, 0.03]), new WeightedChoice([0.1, 0.8, 0.1]), new WeightedChoice([0.03, 0.3, 0.67])],
  larger: [new WeightedChoice([0.55, 0.38, 0.07]), new WeightedChoice([0.23, 0.54, 0.23]), new WeightedChoice([0.07, 0.4, 0.53])],
} as const;
/**
 * The basket rule, as fitted on the real sample (core/features/price-tiers.ts): the score
 * (#UM lines − #LA lines) / lines below LOWER is LA, above UPPER is UM, MM between.
 */
export const TIER_RULE_THRESHOLDS = { lower: -0.226, upper: 0.197 } as const;
/**
 * Share of labels replaced by another class: the real labels are not perfectly clean either (on the
 * real sample about 0.35% of the baskets whose every product has a sure tier disagree with the rule).
 */
const LABEL_NOISE = 0.003;
/** Unclassifiable baskets: most of the XX-type ones, many tiny non-food ones. */
const UNCLASSIFIED_GIVEN_TYPE_XX = 0.83;
const UNCLASSIFIED_GIVEN_SMALL_NONFOOD = 0.5;
const PRODUCT_RETRIES = 12;

/** A line a fault was injected as, placed right after clean line `after`. */
export interface FaultLine {
  readonly kind: RowFault;
  readonly after: number;
  /** A product not otherwise in the basket (unused for `duplicate_line`, a copy of line `after`). */
  readonly product: number;
  readonly quantity: number;
  /** Picks among the ways a fault kind can look (which column, which bad value). */
  readonly variant: number;
}

export interface SynthesizedBasket {
  /** Number of the basket within its week; the BASKET_ID derives from it. */
  readonly sequence: number;
  readonly store: number;
  /** Customer index, or -1 for an anonymous (no loyalty card) basket. */
  readonly customer: number;
  /** 0 = Monday … 6 = Sunday. */
  readonly day: number;
  readonly hour: number;
  /** Index into BASKET_TYPES. */
  readonly type: number;
  readonly mission: MissionIndex;
  readonly size: 'S' | 'M' | 'L';
  /** A PriceTier, or LABEL_UNCLASSIFIED. */
  readonly label: number;
  /** Clean lines, sorted by product: product indexes and quantities. */
  readonly products: readonly number[];
  readonly quantities: readonly number[];
  readonly faults: readonly FaultLine[];
}

interface BasketShape {
  type: number;
  mission: MissionIndex;
  quantities: number[];
}

/** Tracks where in ROW_FAULTS the next injected fault comes from, so kinds are spread evenly. */
export interface FaultCursor {
  next: number;
}

function drawQuantities(random: SeededRandom, targetItems: number, allOnes: boolean): number[] {
  const quantities: number[] = [];
  let items = 0;
  while (items < targetItems) {
    let quantity = allOnes ? 1 : QUANTITY_CHOICE.pick(random);
    if (items + quantity > targetItems) quantity = 1;
    quantities.push(quantity);
    items += quantity;
  }
  return quantities;
}

function drawShape(random: SeededRandom): BasketShape {
  const type = TYPE_CHOICE.pick(random);
  const mission = (type === TYPE_UNCLASSIFIED ? MISSION_UNCLASSIFIED : MISSION_CHOICE_BY_TYPE[type].pick(random)) as MissionIndex;
  const size = SIZES[SIZE_CHOICE_BY_TYPE[type].pick(random)];
  if (size === 'S') return { type, mission, quantities: drawQuantities(random, random.chance(0.59) ? 1 : 2, true) };
  if (size === 'M') return { type, mission, quantities: drawQuantities(random, 3 + MEDIUM_ITEMS_CHOICE.pick(random), false) };
  const extra = LARGE_EXTRA_ITEMS[type];
  const items = Math.min(LARGE_ITEMS_MAX, 10 + Math.floor(random.nextLogNormal(extra.median, extra.sigma)));
  return { type, mission, quantities: drawQuantities(random, items, false) };
}

/** A shape with exactly `lines` lines of one item each (the last basket of a week fills the row budget). */
function shapeWithLines(random: SeededRandom, lines: number): BasketShape {
  const size = basketSizeFor(lines);
  const type = size === 'S' ? SMALL_SHOP : size === 'M' ? (random.chance(0.6) ? SMALL_SHOP : TOP_UP) : lines >= 15 ? FULL_SHOP : TOP_UP;
  return { type, mission: MISSION_CHOICE_BY_TYPE[type].pick(random) as MissionIndex, quantities: new Array<number>(lines).fill(1) };
}

function pickFromWeights(random: SeededRandom, weights: readonly number[]): number {
  const total = weights[0] + weights[1] + weights[2];
  const draw = random.nextFloat() * total;
  if (draw < weights[0]) return 0;
  return draw < weights[0] + weights[1] ? 1 : 2;
}

function lineTier(random: SeededRandom, tripTier: PriceTier, small: boolean): PriceTier {
  return (small ? LINE_TIER_BY_TRIP.small : LINE_TIER_BY_TRIP.larger)[tripTier].pick(random) as PriceTier;
}

/**
 * Everything a week needs besides its own random stream. The catalog is shared by every week.
 */
export interface WeekSynthesisContext {
  readonly catalog: Catalog;
  /** Probability that a clean line is followed by a faulty one (faultRate / (1 - faultRate)). */
  readonly faultsPerCleanLine: number;
  readonly faultCursor: FaultCursor;
}

/** Draws baskets until exactly `rowBudget` rows (clean plus faulty lines) are used; lines sorted by product. */
export function synthesizeWeek(context: WeekSynthesisContext, random: SeededRandom, rowBudget: number): SynthesizedBasket[] {
  const { catalog } = context;
  const baskets: SynthesizedBasket[] = [];
  let rowsLeft = rowBudget;
  const inBasket = new Set<number>();

  const pickProduct = (mission: MissionIndex, tier: PriceTier): number => {
    for (let attempt = 0; attempt < PRODUCT_RETRIES; attempt++) {
      const division = catalog.divisionChoiceByMission[mission].pick(random);
      const product = catalog.productChoice[division][tier].pick(random);
      if (!inBasket.has(product)) return product;
    }
    return -1;
  };

  while (rowsLeft > 0) {
    let shape = drawShape(random);
    let faultCount = 0;
    for (let line = 0; line < shape.quantities.length; line++) if (random.chance(context.faultsPerCleanLine)) faultCount++;
    if (shape.quantities.length > rowsLeft) {
      shape = shapeWithLines(random, rowsLeft);
      faultCount = 0;
    }
    faultCount = Math.min(faultCount, rowsLeft - shape.quantities.length);

    let store: number;
    let customer = -1;
    let shopperTier: PriceTier;
    if (random.chance(ANONYMOUS_SHARE)) {
      store = catalog.storeChoice.pick(random);
      shopperTier = shopperTierAt(catalog.stores[store], random);
    } else {
      customer = catalog.customerChoice.pick(random);
      const shopper = catalog.customers[customer];
      store = random.chance(SHOPS_AT_HOME_STORE) ? shopper.homeStore : catalog.storeChoice.pick(random);
      shopperTier = shopper.tier;
    }
    const plannedItems = shape.quantities.reduce((sum, quantity) => sum + quantity, 0);
    const sizeIndex = SIZES.indexOf(basketSizeFor(plannedItems));
    const tripWeights = [0, 1, 2].map(
      (tier) => TRIP_TIER_BY_SHOPPER[shopperTier][tier] * TRIP_TIER_TILT_BY_MISSION[shape.mission][tier] * TRIP_TIER_TILT_BY_SIZE[sizeIndex][tier],
    );
    const tripTier = pickFromWeights(random, tripWeights) as PriceTier;

    inBasket.clear();
    const lines: { product: number; quantity: number }[] = [];
    for (const quantity of shape.quantities) {
      const product = pickProduct(shape.mission, lineTier(random, tripTier, sizeIndex === 0));
      if (product < 0) continue;
      inBasket.add(product);
      lines.push({ product, quantity });
    }
    if (lines.length === 0) continue;
    lines.sort((left, right) => left.product - right.product);
    const products = lines.map((line) => line.product);
    const quantities = lines.map((line) => line.quantity);
    const items = quantities.reduce((sum, quantity) => sum + quantity, 0);
    const size = basketSizeFor(items);

    let difference = 0;
    for (const line of lines) difference += catalog.products[line.product].tier - 1;
    const score = difference / lines.length;
    let label = score < TIER_RULE_THRESHOLDS.lower ? 0 : score > TIER_RULE_THRESHOLDS.upper ? 2 : 1;
    if (random.chance(LABEL_NOISE)) label = (label + 1 + random.nextInt(2)) % 3;
    if (shape.type === TYPE_UNCLASSIFIED && random.chance(UNCLASSIFIED_GIVEN_TYPE_XX)) label = LABEL_UNCLASSIFIED;
    if (shape.mission === MISSION_NONFOOD && size === 'S' && random.chance(UNCLASSIFIED_GIVEN_SMALL_NONFOOD)) label = LABEL_UNCLASSIFIED;

    const faults: FaultLine[] = [];
    for (let fault = 0; fault < faultCount; fault++) {
      const kind = ROW_FAULTS[context.faultCursor.next % ROW_FAULTS.length];
      context.faultCursor.next++;
      const after = random.nextInt(lines.length);
      let product = products[after];
      let quantity = quantities[after];
      if (kind !== 'duplicate_line') {
        product = pickProduct(shape.mission, lineTier(random, tripTier, sizeIndex === 0));
        if (product < 0) product = products[after];
        else inBasket.add(product);
        quantity = QUANTITY_CHOICE.pick(random);
      }
      faults.push({ kind, after, product, quantity, variant: random.nextInt(256) });
    }
    // a duplicate must directly follow the line it copies
    faults.sort((left, right) => left.after - right.after || Number(right.kind === 'duplicate_line') - Number(left.kind === 'duplicate_line'));

    baskets.push({
      sequence: baskets.length,
      store,
      customer,
      day: random.nextInt(7),
      hour: FIRST_HOUR + HOUR_CHOICE.pick(random),
      type: shape.type,
      mission: shape.mission,
      size,
      label,
      products,
      quantities,
      faults,
    });
    rowsLeft -= lines.length + faults.length;
  }
  return baskets;
}
