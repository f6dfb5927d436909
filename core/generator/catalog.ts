/**
 * The fixed world the generator draws baskets from: the product code tree with a latent price tier
 * and a fixed unit price per product, the stores (fixed format and region, a local affluence), and
 * the customers (affluence, segments, a home store). Everything here is derived from the seed alone
 * (the customer count aside), so every week of a run sees the same world.
 */
import { SeededRandom, WeightedChoice } from './seeded-random';
import { BASKET_MISSIONS, PRICE_SENSITIVITY_CLASSES, STORE_FORMATS, STORE_REGIONS, UNCLASSIFIED } from '../schema/lgsr';

/**
 * A latent price tier as an index into PRICE_SENSITIVITY_CLASSES: LA 0, MM 1, UM 2 (also the
 * positions a basket's tiers are averaged on).
 */
export type PriceTier = 0 | 1 | 2;

/** A mission as an index into BASKET_MISSIONS: Fresh, Mixed, Grocery, Nonfood, XX. */
export type MissionIndex = 0 | 1 | 2 | 3 | 4;

export const PRODUCT_COUNT = 5000;
const FIRST_PRODUCT_NUMBER = 900_001;
export const STORE_CODE_MAX = 2908;
export const STORES_IN_USE = 761;

/**
 * The shape of the code tree per division (PROD_CODE_40): how many groups (_30), departments (_20)
 * and classes (_10) it holds and its share of the products, measured on the real sample (a few
 * departments and classes added so the totals match the release: 31 groups, 90 departments, 250
 * classes). `kind` says which mission the division's products serve.
 */
const DIVISION_SHAPES = [
  { groups: 3, departments: 7, classes: 22, productShare: 295, kind: 'fresh' },
  { groups: 6, departments: 27, classes: 82, productShare: 1246, kind: 'fresh' },
  { groups: 7, departments: 22, classes: 69, productShare: 1523, kind: 'grocery' },
  { groups: 4, departments: 11, classes: 23, productShare: 100, kind: 'nonfood' },
  { groups: 3, departments: 9, classes: 29, productShare: 546, kind: 'fresh' },
  { groups: 2, departments: 3, classes: 3, productShare: 6, kind: 'nonfood' },
  { groups: 1, departments: 1, classes: 1, productShare: 1, kind: 'nonfood' },
  { groups: 3, departments: 8, classes: 18, productShare: 129, kind: 'nonfood' },
  { groups: 2, departments: 2, classes: 3, productShare: 12, kind: 'nonfood' },
] as const;

/** Share of a mission's lines per division (D00001…D00009), calibrated on the real sample. */
const DIVISION_WEIGHTS_BY_MISSION: Readonly<Record<(typeof BASKET_MISSIONS)[number], readonly number[]>> = {
  Fresh: [12, 62, 14, 0.3, 10, 0.1, 0.005, 1.2, 0.2],
  Mixed: [9, 45, 33, 0.6, 10, 0.15, 0.01, 2, 0.3],
  Grocery: [4, 20, 68, 0.6, 5, 0.1, 0.002, 2, 0.3],
  Nonfood: [3, 10, 9.5, 20, 2, 8, 0.5, 40, 12],
  XX: [9, 49, 29, 0.6, 9.4, 0.16, 0.005, 1.8, 0.3],
};

/**
 * Tier of a class's products: the class centre with this probability, else one of the others. With
 * these weights about 24% of the products are LA, 52% MM, 24% UM, and 60% of a class's products share
 * its most common tier: as the tiers inferred on the real sample (23/55/22, 60%).
 */
const CLASS_TIER_CENTRE_WEIGHTS = [0.1, 0.8, 0.1];
const PRODUCT_TIER_FOLLOWS_CLASS = 0.6;
/**
 * Unit price multiplier per tier: LA products are cheaper than their class, UM ones barely dearer than
 * MM ones (on the real sample, LA products' unit prices sit 0.24 below MM's on a log scale, UM's 0.03 above).
 */
const TIER_PRICE_MULTIPLIER = [0.79, 1, 1.03];

type StoreFormat = (typeof STORE_FORMATS)[number];
/** Share of the stores per format (real sample). */
const STORE_FORMAT_WEIGHTS: Readonly<Record<StoreFormat, number>> = { LS: 0.446, MS: 0.308, SS: 0.209, XLS: 0.037 };
/** Baskets per store relative to each other, by format (real sample: XLS busiest, SS quietest). */
const STORE_FORMAT_VOLUME: Readonly<Record<StoreFormat, number>> = { LS: 29, MS: 17, SS: 9, XLS: 40 };

/** Spread of the stores' neighbourhood affluence (in units of the customers' own spread). */
const STORE_AFFLUENCE_SPREAD = 2.5;
const REGION_AFFLUENCE_SPREAD = 0.25;
/** Latent affluence cut points: below the first is LA, above the second UM. */
export const AFFLUENCE_CUTS = [-1.95, 2.2] as const;

/** Customer lifestages with their shares (real sample); blank for some customers. */
const LIFESTAGE_WEIGHTS: Readonly<Record<string, number>> = { YA: 17, OA: 15, YF: 20, OF: 6, PE: 9, OT: 33 };
const LIFESTAGE_BLANK = 0.125;
const CUSTOMER_SENSITIVITY_UNCLASSIFIED = 0.01;

export interface Product {
  /** `PRD0900001`…`PRD0905000`. */
  readonly code: string;
  /** `PROD_CODE,PROD_CODE_10,PROD_CODE_20,PROD_CODE_30,PROD_CODE_40` as written in a row. */
  readonly codeFields: string;
  readonly classCode: string;
  readonly divisionIndex: number;
  /** The latent price tier the basket label follows. */
  readonly tier: PriceTier;
  /** The fixed unit price in pence; SPEND = QUANTITY × this / 100. */
  readonly unitPriceCents: number;
}

export interface Store {
  readonly code: string;
  readonly format: string;
  readonly region: string;
  /** `STORE_CODE,STORE_FORMAT,STORE_REGION` as written in a row. */
  readonly fields: string;
  /** Neighbourhood affluence on the customers' latent scale. */
  readonly affluence: number;
}

export interface Customer {
  readonly code: string;
  readonly tier: PriceTier;
  /** CUST_PRICE_SENSITIVITY as the customer file knows it (the tier, or XX now and then). */
  readonly sensitivity: string;
  /** CUST_LIFESTAGE, '' when unknown. */
  readonly lifestage: string;
  readonly homeStore: number;
}

export interface Catalog {
  readonly products: readonly Product[];
  readonly stores: readonly Store[];
  readonly customers: readonly Customer[];
  /** Picks a store index by basket volume. */
  readonly storeChoice: WeightedChoice;
  /** Picks a customer index by shopping frequency. */
  readonly customerChoice: WeightedChoice;
  /** Picks a division index for a line of a basket with the given mission. */
  readonly divisionChoiceByMission: readonly WeightedChoice[];
  /**
   * `productChoice[division][tier]` picks a product index by popularity among the division's products
   * of that tier (among all its products when it has none of that tier).
   */
  readonly productChoice: readonly (readonly WeightedChoice[])[];
}

/** Random streams of the catalog (the weeks use streams from 1000 up). */
const CATALOG_STREAM = 1;
const CUSTOMER_STREAM = 2;

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}

/** Splits `count` items over `parents` so each gets at least one, the rest by random weights. */
function spreadOver(random: SeededRandom, count: number, parents: number, unevenness: number): number[] {
  const sizes = new Array<number>(parents).fill(1);
  const choice = new WeightedChoice(Array.from({ length: parents }, () => random.nextLogNormal(1, unevenness)));
  for (let extra = count - parents; extra > 0; extra--) sizes[choice.pick(random)]++;
  return sizes;
}

/** Integer shares of `total` proportional to `weights` (largest remainder), each at least `minimum[i]`. */
export function apportion(total: number, weights: readonly number[], minimum: readonly number[] = []): number[] {
  const floorOf = (index: number): number => minimum[index] ?? 0;
  const reserved = weights.reduce((sum, _weight, index) => sum + floorOf(index), 0);
  const weightSum = weights.reduce((sum, weight) => sum + weight, 0);
  const free = total - reserved;
  const exact = weights.map((weight) => (free * weight) / weightSum);
  const shares = exact.map((value, index) => Math.floor(value) + floorOf(index));
  let left = total - shares.reduce((sum, share) => sum + share, 0);
  const byRemainder = exact
    .map((value, index) => ({ index, remainder: value - Math.floor(value) }))
    .sort((x, y) => y.remainder - x.remainder || x.index - y.index);
  for (let position = 0; left > 0; position = (position + 1) % byRemainder.length, left--) shares[byRemainder[position].index]++;
  return shares;
}

function tierOf(latentAffluence: number): PriceTier {
  if (latentAffluence < AFFLUENCE_CUTS[0]) return 0;
  if (latentAffluence > AFFLUENCE_CUTS[1]) return 2;
  return 1;
}

function buildProducts(random: SeededRandom): Product[] {
  const productsPerDivision = apportion(
    PRODUCT_COUNT,
    DIVISION_SHAPES.map((shape) => shape.productShare),
    DIVISION_SHAPES.map((shape) => shape.classes),
  );
  // Codes are numbered in tree order, as in the release: CL00001 → DEP00001 → G00001 → D00001.
  let groupNumber = 0;
  let departmentNumber = 0;
  let classNumber = 0;
  const slots: { classCodeFields: string; classCode: string; divisionIndex: number; tierCentre: number; basePriceCents: number }[] = [];
  DIVISION_SHAPES.forEach((shape, divisionIndex) => {
    const divisionCode = `D${pad(divisionIndex + 1, 5)}`;
    const departmentsPerGroup = spreadOver(random, shape.departments, shape.groups, 0.5);
    const classesPerDepartment = spreadOver(random, shape.classes, shape.departments, 0.6);
    const productsPerClass = spreadOver(random, productsPerDivision[divisionIndex], shape.classes, 0.8);
    let departmentInDivision = 0;
    let classInDivision = 0;
    for (const departmentCount of departmentsPerGroup) {
      const groupCode = `G${pad(++groupNumber, 5)}`;
      for (let department = 0; department < departmentCount; department++, departmentInDivision++) {
        const departmentCode = `DEP${pad(++departmentNumber, 5)}`;
        for (let klass = 0; klass < classesPerDepartment[departmentInDivision]; klass++, classInDivision++) {
          const classCode = `CL${pad(++classNumber, 5)}`;
          const tierCentre = new WeightedChoice(CLASS_TIER_CENTRE_WEIGHTS).pick(random);
          const basePriceCents = random.nextLogNormal(105, 0.7);
          for (let product = 0; product < productsPerClass[classInDivision]; product++) {
            slots.push({ classCodeFields: `${classCode},${departmentCode},${groupCode},${divisionCode}`, classCode, divisionIndex, tierCentre, basePriceCents });
          }
        }
      }
    }
  });
  // Product numbers are scattered over the tree (PRD0900097 may sit in CL00001, PRD0900033 in CL00201).
  random.shuffle(slots);
  return slots.map((slot, index) => {
    const tier = (random.chance(PRODUCT_TIER_FOLLOWS_CLASS) ? slot.tierCentre : (slot.tierCentre + 1 + random.nextInt(2)) % 3) as PriceTier;
    const unitPriceCents = Math.max(1, Math.round(slot.basePriceCents * TIER_PRICE_MULTIPLIER[tier] * random.nextLogNormal(1, 0.3)));
    const code = `PRD${pad(FIRST_PRODUCT_NUMBER + index, 7)}`;
    return { code, codeFields: `${code},${slot.classCodeFields}`, classCode: slot.classCode, divisionIndex: slot.divisionIndex, tier, unitPriceCents };
  });
}

function buildStores(random: SeededRandom): { stores: Store[]; volumes: number[] } {
  const numbers = Array.from({ length: STORE_CODE_MAX }, (_unused, index) => index + 1);
  random.shuffle(numbers);
  const inUse = numbers.slice(0, STORES_IN_USE).sort((x, y) => x - y);
  const formatChoice = new WeightedChoice(STORE_FORMATS.map((format) => STORE_FORMAT_WEIGHTS[format]));
  const regionAffluence = STORE_REGIONS.map(() => REGION_AFFLUENCE_SPREAD * random.nextNormal());
  const drawn = inUse.map((number) => {
    const format = STORE_FORMATS[formatChoice.pick(random)];
    const regionIndex = random.nextInt(STORE_REGIONS.length);
    const code = `STORE${pad(number, 5)}`;
    const volume = STORE_FORMAT_VOLUME[format] * random.nextLogNormal(1, 0.5);
    return { code, format, region: STORE_REGIONS[regionIndex], volume, affluence: regionAffluence[regionIndex] + random.nextNormal() };
  });
  // Standardize the neighbourhood affluence over the baskets (volume-weighted), so the shares of
  // LA/MM/UM shoppers, and with them the label shares, hardly move from seed to seed.
  const totalVolume = drawn.reduce((sum, store) => sum + store.volume, 0);
  const mean = drawn.reduce((sum, store) => sum + store.volume * store.affluence, 0) / totalVolume;
  const deviation = Math.sqrt(drawn.reduce((sum, store) => sum + store.volume * (store.affluence - mean) ** 2, 0) / totalVolume);
  const stores = drawn.map(({ code, format, region, affluence }) => ({
    code,
    format,
    region,
    fields: `${code},${format},${region}`,
    affluence: (STORE_AFFLUENCE_SPREAD * (affluence - mean)) / deviation,
  }));
  return { stores, volumes: drawn.map((store) => store.volume) };
}

/** A latent affluence for a shopper of a store: the neighbourhood's plus the shopper's own spread. */
export function shopperTierAt(store: Store, random: SeededRandom): PriceTier {
  return tierOf(store.affluence + random.nextNormal());
}

function buildCustomers(
  random: SeededRandom,
  count: number,
  stores: readonly Store[],
  storeChoice: WeightedChoice,
): { customers: Customer[]; frequencies: number[] } {
  // CUST + 10 digits: distinct numbers below 10^6 (like the release) from a bijection of the index.
  const space = count <= 1_000_000 ? 1_000_000 : 10_000_000_000;
  const stride = 738_197;
  const offset = random.nextInt(1_000_000);
  const lifestages = Object.keys(LIFESTAGE_WEIGHTS);
  const lifestageChoice = new WeightedChoice(lifestages.map((lifestage) => LIFESTAGE_WEIGHTS[lifestage]));
  const frequencies: number[] = [];
  const customers = Array.from({ length: count }, (_unused, index) => {
    const homeStore = storeChoice.pick(random);
    const tier = shopperTierAt(stores[homeStore], random);
    const sensitivity = random.chance(CUSTOMER_SENSITIVITY_UNCLASSIFIED) ? UNCLASSIFIED : PRICE_SENSITIVITY_CLASSES[tier];
    const lifestage = random.chance(LIFESTAGE_BLANK) ? '' : lifestages[lifestageChoice.pick(random)];
    frequencies.push(random.nextLogNormal(1, 0.6));
    const number = Number((BigInt(index) * BigInt(stride) + BigInt(offset)) % BigInt(space));
    return { code: `CUST${pad(number, 10)}`, tier, sensitivity, lifestage, homeStore };
  });
  return { customers, frequencies };
}

/** Builds the world for a seed; `customerCount` customers shop in it. */
export function createCatalog(seed: number, customerCount: number): Catalog {
  const random = SeededRandom.forStream(seed, CATALOG_STREAM);
  const products = buildProducts(random);
  const { stores, volumes } = buildStores(random);
  const storeChoice = new WeightedChoice(volumes);
  const { customers, frequencies } = buildCustomers(SeededRandom.forStream(seed, CUSTOMER_STREAM), customerCount, stores, storeChoice);

  const popularity = products.map(() => random.nextLogNormal(1, 1.3));
  const productIndexesByDivisionTier = DIVISION_SHAPES.map((_shape, divisionIndex) => {
    const byTier: [number[], number[], number[]] = [[], [], []];
    products.forEach((product, index) => {
      if (product.divisionIndex === divisionIndex) byTier[product.tier].push(index);
    });
    return byTier;
  });
  const productChoice = productIndexesByDivisionTier.map((byTier) => {
    const all = byTier.flat();
    return byTier.map((indexes) => {
      const pool = indexes.length > 0 ? indexes : all;
      return new WeightedChoice(
        pool.map((index) => popularity[index]),
        pool,
      );
    });
  });
  const divisionChoiceByMission = BASKET_MISSIONS.map((mission) => new WeightedChoice(DIVISION_WEIGHTS_BY_MISSION[mission]));
  return {
    products,
    stores,
    customers,
    storeChoice,
    customerChoice: new WeightedChoice(frequencies.length > 0 ? frequencies : [1]),
    divisionChoiceByMission,
    productChoice,
  };
}
