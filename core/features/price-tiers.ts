import type { BasketBatch } from './basket-batch';

/**
 * Inferred price tiers: each product sits at a fixed tier (LA 0, MM 1, UM 2) and a basket's label
 * follows from its lines' tiers by a rule on the share score (#UM lines − #LA lines) / lines: LA below
 * the lower threshold, UM above the upper one, MM between. Neither the tiers nor the thresholds are
 * given: a discrete search finds them on the training baskets. It starts from label votes (a line of a
 * basket with L lines casts 1/L of a vote for the basket's label on its product), fits the two
 * thresholds, then improves the assignment product by product (coordinate ascent: each product takes
 * the tier under which the rule agrees with the most labels of its baskets, ties keep the current one)
 * and refits the thresholds after each sweep, until a sweep changes nothing.
 */
export interface PriceTiers {
  /** Share score below which the rule says LA. */
  readonly lowerThreshold: number;
  /** Share score above which the rule says UM. */
  readonly upperThreshold: number;
  /** Share of the fitted baskets whose label the rule gives, with the fitted tiers. */
  readonly basketAgreement: number;
  /** Sweeps of the coordinate ascent that ran. */
  readonly sweeps: number;
  /** A product is confident when its tier wins by at least this many fitted baskets. */
  readonly confidentMargin: number;
  /**
   * How sharply a product's agreement counts become its tier probabilities (softmax of sharpness ×
   * agreement): at 2, a tier that wins by one basket gets about 0.79, by two 0.96.
   */
  readonly sharpness: number;
  /** Tier by product number; -1 for a product no fitted basket holds. */
  readonly productTier: Int8Array;
  /**
   * By product number and tier [product · 3 + tier]: how many of the product's fitted baskets the rule
   * gets right with that tier (the others' tiers as fitted).
   */
  readonly productAgreement: Int32Array;
  /** Confident products per tier, by category code of each level: [code · 3 + tier]. */
  readonly levelTierCounts: Readonly<Record<TierLevel, Float64Array>>;
  /** Shares of the confident products per tier (LA, MM, UM): the root of the fallback. */
  readonly tierPrior: readonly number[];
}

/** The product tree above products, from class to division: where an unseen product's tier comes from. */
export const TIER_LEVELS = ['product10', 'product20', 'product30', 'product40'] as const;
export type TierLevel = (typeof TIER_LEVELS)[number];

export interface FitPriceTiersOptions {
  /** Most sweeps of the coordinate ascent (it usually settles in fewer than ten). @default 50 */
  readonly maxSweeps?: number;
  /** A product's tier is confident when it wins by at least this many fitted baskets. @default 1 */
  readonly confidentMargin?: number;
  /** Softmax sharpness of a product's tier probabilities from its agreement counts. @default 2 */
  readonly tierSharpness?: number;
}

/**
 * How many more of a product's fitted baskets the rule gets right with its tier than with the best
 * other tier (0: its baskets cannot tell; -1 for a product without a tier).
 */
export function tierMargin(tiers: Pick<PriceTiers, 'productTier' | 'productAgreement'>, product: number): number {
  const tier = product >= 0 && product < tiers.productTier.length ? tiers.productTier[product] : -1;
  if (tier < 0) return -1;
  const agreement = tiers.productAgreement;
  let others = -Infinity;
  for (let other = 0; other < 3; other++) if (other !== tier) others = Math.max(others, agreement[product * 3 + other]);
  return Math.max(agreement[product * 3 + tier] - others, 0);
}

/** The rule's label (0 LA, 1 MM, 2 UM) of a share score. */
export function tierRuleLabel(score: number, lowerThreshold: number, upperThreshold: number): number {
  return score < lowerThreshold ? 0 : score > upperThreshold ? 2 : 1;
}

/**
 * Fits product tiers and the rule's thresholds on the labelled baskets among `rows` (XX and unknown
 * labels are skipped). Deterministic: the same baskets in the same order give the same tiers.
 */
export function fitPriceTiers(batch: BasketBatch, rows: ArrayLike<number>, options: FitPriceTiersOptions = {}): PriceTiers {
  const maxSweeps = options.maxSweeps ?? 50;
  const confidentMargin = options.confidentMargin ?? 1;
  const baskets: number[] = [];
  for (let index = 0; index < rows.length; index++) {
    const basket = rows[index];
    if (batch.label[basket] >= 0 && batch.lineStart[basket + 1] > batch.lineStart[basket]) baskets.push(basket);
  }
  const count = baskets.length;
  const labels = new Int8Array(count);
  const lines = new Int32Array(count);
  let products = 0;
  for (let index = 0; index < count; index++) {
    const basket = baskets[index];
    labels[index] = batch.label[basket];
    lines[index] = batch.lineStart[basket + 1] - batch.lineStart[basket];
    for (let line = batch.lineStart[basket]; line < batch.lineStart[basket + 1]; line++) products = Math.max(products, batch.product[line] + 1);
  }

  // which baskets hold each product (and how often: a basket may repeat a product), by product
  const start = new Int32Array(products + 1);
  for (const basket of baskets) {
    for (let line = batch.lineStart[basket]; line < batch.lineStart[basket + 1]; line++) if (batch.product[line] >= 0) start[batch.product[line] + 1] += 1;
  }
  for (let product = 0; product < products; product++) start[product + 1] += start[product];
  const holder = new Int32Array(start[products]);
  const multiplicity = new Int32Array(start[products]);
  const end = start.slice(0, products);
  for (let index = 0; index < count; index++) {
    const basket = baskets[index];
    for (let line = batch.lineStart[basket]; line < batch.lineStart[basket + 1]; line++) {
      const product = batch.product[line];
      if (product < 0) continue;
      // a repeat of the product in the same basket lands right after its first entry
      if (end[product] > start[product] && holder[end[product] - 1] === index) {
        multiplicity[end[product] - 1] += 1;
      } else {
        holder[end[product]] = index;
        multiplicity[end[product]] = 1;
        end[product] += 1;
      }
    }
  }

  // initial tiers: label votes weighted by 1 / basket size
  const productTier = new Int8Array(products).fill(-1);
  const votes = new Float64Array(3);
  for (let product = 0; product < products; product++) {
    if (end[product] === start[product]) continue;
    votes.fill(0);
    for (let entry = start[product]; entry < end[product]; entry++) votes[labels[holder[entry]]] += multiplicity[entry] / lines[holder[entry]];
    productTier[product] = votes[2] > votes[1] && votes[2] > votes[0] ? 2 : votes[0] > votes[1] ? 0 : 1;
  }

  // a basket's score numerator: #UM − #LA lines (lines of products without a tier count as MM)
  const difference = new Int32Array(count);
  for (let index = 0; index < count; index++) {
    const basket = baskets[index];
    let sum = 0;
    for (let line = batch.lineStart[basket]; line < batch.lineStart[basket + 1]; line++) {
      const product = batch.product[line];
      if (product >= 0) sum += productTier[product] - 1;
    }
    difference[index] = sum;
  }

  let thresholds = fitThresholds(difference, lines, labels);
  const gains = new Int32Array(3);
  /** How many of the product's baskets the rule gets right with each tier (into `gains`). */
  const gainsOf = (product: number, current: number, lower: number, upper: number): void => {
    gains.fill(0);
    for (let entry = start[product]; entry < end[product]; entry++) {
      const index = holder[entry];
      const times = multiplicity[entry];
      const base = difference[index] - times * (current - 1);
      const label = labels[index];
      for (let tier = 0; tier < 3; tier++) if (tierRuleLabel((base + times * (tier - 1)) / lines[index], lower, upper) === label) gains[tier] += 1;
    }
  };
  let sweeps = 0;
  while (sweeps < maxSweeps) {
    sweeps += 1;
    let changes = 0;
    for (let product = 0; product < products; product++) {
      const current = productTier[product];
      if (current < 0) continue;
      gainsOf(product, current, thresholds.lower, thresholds.upper);
      let best = current;
      for (let tier = 0; tier < 3; tier++) if (gains[tier] > gains[best]) best = tier;
      if (best === current) continue;
      for (let entry = start[product]; entry < end[product]; entry++) difference[holder[entry]] += multiplicity[entry] * (best - current);
      productTier[product] = best;
      changes += 1;
    }
    if (changes === 0) break;
    thresholds = fitThresholds(difference, lines, labels);
  }

  const productAgreement = new Int32Array(products * 3);
  for (let product = 0; product < products; product++) {
    const tier = productTier[product];
    if (tier < 0) continue;
    gainsOf(product, tier, thresholds.lower, thresholds.upper);
    productAgreement.set(gains, product * 3);
  }
  const fitted = { productTier, productAgreement };

  // the fallback for products the training baskets do not hold: tiers of the confident products by category
  const sizes: Record<TierLevel, number> = { product10: 0, product20: 0, product30: 0, product40: 0 };
  for (const basket of baskets) {
    for (let line = batch.lineStart[basket]; line < batch.lineStart[basket + 1]; line++) {
      sizes.product10 = Math.max(sizes.product10, batch.product10[line] + 1);
      sizes.product20 = Math.max(sizes.product20, batch.product20[line] + 1);
      sizes.product30 = Math.max(sizes.product30, batch.product30[line] + 1);
      sizes.product40 = Math.max(sizes.product40, batch.product40[line] + 1);
    }
  }
  const levelTierCounts = Object.fromEntries(TIER_LEVELS.map((level) => [level, new Float64Array(sizes[level] * 3)])) as Record<TierLevel, Float64Array>;
  const counted = new Uint8Array(products);
  const tierCounts = [0, 0, 0];
  for (const basket of baskets) {
    for (let line = batch.lineStart[basket]; line < batch.lineStart[basket + 1]; line++) {
      const product = batch.product[line];
      if (product < 0 || counted[product] || tierMargin(fitted, product) < confidentMargin) continue;
      counted[product] = 1;
      const tier = productTier[product];
      tierCounts[tier] += 1;
      if (batch.product10[line] >= 0) levelTierCounts.product10[batch.product10[line] * 3 + tier] += 1;
      if (batch.product20[line] >= 0) levelTierCounts.product20[batch.product20[line] * 3 + tier] += 1;
      if (batch.product30[line] >= 0) levelTierCounts.product30[batch.product30[line] * 3 + tier] += 1;
      if (batch.product40[line] >= 0) levelTierCounts.product40[batch.product40[line] * 3 + tier] += 1;
    }
  }
  const confident = tierCounts[0] + tierCounts[1] + tierCounts[2];

  let agreed = 0;
  for (let index = 0; index < count; index++) if (tierRuleLabel(difference[index] / lines[index], thresholds.lower, thresholds.upper) === labels[index]) agreed += 1;
  return {
    lowerThreshold: thresholds.lower,
    upperThreshold: thresholds.upper,
    basketAgreement: count > 0 ? agreed / count : 0,
    sweeps,
    confidentMargin,
    sharpness: options.tierSharpness ?? 2,
    productTier,
    productAgreement,
    levelTierCounts,
    tierPrior: tierCounts.map((tierCount) => (confident > 0 ? tierCount / confident : 1 / 3)),
  };
}

/**
 * The two thresholds that make the rule agree with the most labels, given each basket's score
 * difference / lines: cut points halfway between neighbouring distinct scores (the lower at or below
 * the upper). Ties go to the lowest lower and then the lowest upper cut.
 */
export function fitThresholds(difference: Int32Array, lines: Int32Array, labels: Int8Array): { readonly lower: number; readonly upper: number } {
  const count = labels.length;
  if (count === 0) return { lower: 0, upper: 0 };
  const scores = new Float64Array(count);
  for (let index = 0; index < count; index++) scores[index] = difference[index] / lines[index];
  const sorted = scores.slice().sort();
  let distinct = 0;
  for (let index = 0; index < count; index++) if (index === 0 || sorted[index] !== sorted[distinct - 1]) sorted[distinct++] = sorted[index];
  const values = sorted.subarray(0, distinct);
  // labels per distinct score
  const perValue = new Int32Array(distinct * 3);
  for (let index = 0; index < count; index++) {
    let low = 0;
    let high = distinct - 1;
    const score = scores[index];
    while (low < high) {
      const middle = (low + high) >> 1;
      if (values[middle] < score) low = middle + 1;
      else high = middle;
    }
    perValue[low * 3 + labels[index]] += 1;
  }
  // cut a (0…distinct): values below position a are LA; cut c ≥ a: values from c on are UM
  let totalUpperMarket = 0;
  for (let value = 0; value < distinct; value++) totalUpperMarket += perValue[value * 3 + 2];
  let lessAffluentBelow = 0;
  let middleMarketBelow = 0;
  let upperMarketBelow = 0;
  let bestLowerRun = -Infinity;
  let bestLowerCut = 0;
  let best = -Infinity;
  let lowerCut = 0;
  let upperCut = 0;
  for (let cut = 0; cut <= distinct; cut++) {
    if (cut > 0) {
      lessAffluentBelow += perValue[(cut - 1) * 3];
      middleMarketBelow += perValue[(cut - 1) * 3 + 1];
      upperMarketBelow += perValue[(cut - 1) * 3 + 2];
    }
    const lowerRun = lessAffluentBelow - middleMarketBelow;
    if (lowerRun > bestLowerRun) {
      bestLowerRun = lowerRun;
      bestLowerCut = cut;
    }
    const agreement = bestLowerRun + middleMarketBelow + (totalUpperMarket - upperMarketBelow);
    if (agreement > best) {
      best = agreement;
      lowerCut = bestLowerCut;
      upperCut = cut;
    }
  }
  const cutPoint = (cut: number): number => (cut <= 0 ? values[0] - 1 : cut >= distinct ? values[distinct - 1] + 1 : (values[cut - 1] + values[cut]) / 2);
  return { lower: cutPoint(lowerCut), upper: cutPoint(upperCut) };
}

/** JSON form of the price tiers (in the statistics artifact): only the products that have a tier. */
export interface PriceTiersDocument extends Omit<PriceTiers, 'productTier' | 'productAgreement' | 'levelTierCounts'> {
  /** Product numbers with a tier, ascending. */
  readonly products: readonly number[];
  /** Their tiers. */
  readonly productTiers: readonly number[];
  /** Their agreement counts, three per product (LA, MM, UM). */
  readonly productAgreement: readonly number[];
  readonly levelTierCounts: Readonly<Record<TierLevel, readonly number[]>>;
}

export function priceTiersToDocument(tiers: PriceTiers): PriceTiersDocument {
  const products: number[] = [];
  const productTiers: number[] = [];
  const productAgreement: number[] = [];
  for (let product = 0; product < tiers.productTier.length; product++) {
    if (tiers.productTier[product] < 0) continue;
    products.push(product);
    productTiers.push(tiers.productTier[product]);
    productAgreement.push(tiers.productAgreement[product * 3], tiers.productAgreement[product * 3 + 1], tiers.productAgreement[product * 3 + 2]);
  }
  return {
    lowerThreshold: tiers.lowerThreshold,
    upperThreshold: tiers.upperThreshold,
    basketAgreement: tiers.basketAgreement,
    sweeps: tiers.sweeps,
    confidentMargin: tiers.confidentMargin,
    sharpness: tiers.sharpness,
    products,
    productTiers,
    productAgreement,
    levelTierCounts: Object.fromEntries(TIER_LEVELS.map((level) => [level, Array.from(tiers.levelTierCounts[level])])) as Record<TierLevel, number[]>,
    tierPrior: [...tiers.tierPrior],
  };
}

export function priceTiersFromDocument(document: PriceTiersDocument): PriceTiers {
  const size = document.products.length > 0 ? document.products[document.products.length - 1] + 1 : 0;
  const productTier = new Int8Array(size).fill(-1);
  const productAgreement = new Int32Array(size * 3);
  document.products.forEach((product, index) => {
    productTier[product] = document.productTiers[index];
    productAgreement.set(document.productAgreement.slice(index * 3, index * 3 + 3), product * 3);
  });
  return {
    lowerThreshold: document.lowerThreshold,
    upperThreshold: document.upperThreshold,
    basketAgreement: document.basketAgreement,
    sweeps: document.sweeps,
    confidentMargin: document.confidentMargin,
    sharpness: document.sharpness,
    productTier,
    productAgreement,
    levelTierCounts: Object.fromEntries(TIER_LEVELS.map((level) => [level, Float64Array.from(document.levelTierCounts[level])])) as Record<TierLevel, Float64Array>,
    tierPrior: [...document.tierPrior],
  };
}

/** What is wrong with a price-tiers document (as read from JSON): every problem, none when it is well-formed. */
export function priceTiersDocumentProblems(document: unknown): string[] {
  if (typeof document !== 'object' || document === null) return ['priceTiers must be an object'];
  const tiers = document as Partial<Record<keyof PriceTiersDocument, unknown>>;
  const problems: string[] = [];
  const numbers = (value: unknown): value is number[] => Array.isArray(value) && value.every((item) => typeof item === 'number' && Number.isFinite(item));
  for (const key of ['lowerThreshold', 'upperThreshold', 'basketAgreement', 'sweeps', 'confidentMargin', 'sharpness'] as const) {
    if (typeof tiers[key] !== 'number' || !Number.isFinite(tiers[key])) problems.push(`priceTiers.${key} must be a finite number`);
  }
  const products = tiers.products;
  if (!numbers(products) || !products.every((product, index) => Number.isInteger(product) && product >= 0 && (index === 0 || product > products[index - 1]))) {
    problems.push('priceTiers.products must be product numbers, ascending');
  }
  const count = Array.isArray(products) ? products.length : 0;
  if (!numbers(tiers.productTiers) || tiers.productTiers.length !== count || !tiers.productTiers.every((tier) => tier === 0 || tier === 1 || tier === 2)) {
    problems.push('priceTiers.productTiers must be one tier (0, 1 or 2) per product');
  }
  if (!numbers(tiers.productAgreement) || tiers.productAgreement.length !== count * 3) problems.push('priceTiers.productAgreement must be three numbers per product');
  if (!numbers(tiers.tierPrior) || tiers.tierPrior.length !== 3) problems.push('priceTiers.tierPrior must be 3 numbers');
  const levels = tiers.levelTierCounts as Partial<Record<TierLevel, unknown>> | undefined;
  for (const level of TIER_LEVELS) {
    const counts = levels?.[level];
    if (!numbers(counts) || counts.length % 3 !== 0) problems.push(`priceTiers.levelTierCounts.${level} must be numbers, 3 per code`);
  }
  return problems;
}
