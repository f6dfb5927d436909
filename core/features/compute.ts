import type { BasketBatch } from './basket-batch';
import { tierMargin, type PriceTiers } from './price-tiers';
import { CONTEXT_FEATURE_COUNT, FEATURE_COUNT } from './spec';
import type { FeatureStatistics } from './statistics';

/**
 * The basket features: one function, `compute`, maps one basket of a batch to FEATURE_COUNT
 * float32 values. Batch training and the server call exactly this (the server on a batch of its
 * request's baskets), so a basket gets bit-identical features on both paths.
 */
export class BasketFeatures {
  private readonly prior: Float64Array;
  private readonly logPrior: Float64Array;
  private readonly smoothing: number;
  private readonly counts: FeatureStatistics['classCounts'];
  private readonly productPrice: Float64Array;
  private readonly product10Price: Float64Array;
  private readonly storeShares: Float64Array;
  private readonly tiers: PriceTiers;
  // scratch, reused across calls (one BasketFeatures per thread)
  private readonly lineShares = new Float64Array(3);
  private readonly levelShares = new Float64Array(15);
  private readonly levelTiers = new Float64Array(15);
  private readonly seen10 = new Int32Array(1 << 15).fill(-1);
  private readonly seen20 = new Int32Array(1 << 15).fill(-1);
  private stamp = 0;
  /** Distribution of (#UM − #LA) lines over the basket's lines, offset by the line count. */
  private ruleDistribution = new Float64Array(256);
  private ruleNext = new Float64Array(256);
  /** The same over the inferred price tiers' probabilities (the basket rule with its fitted thresholds). */
  private tierDistribution = new Float64Array(256);
  private tierNext = new Float64Array(256);
  // per-basket accumulators, reset at the start of each basket (no allocation per basket)
  private readonly divisionSpend = new Float64Array(9);
  /** share sum, spend-weighted share, min, max, log ratio, class-level sum, department-level sum, tier count: 8 × 3 */
  private readonly accumulators = new Float64Array(24);

  // Per-product line values (see productSlot): slot 0 is scratch, slots 1… are cached products.
  private readonly productSlots = new Map<number, number>();
  private cacheValues = new Float64Array(1024 * CACHE_STRIDE);
  private cacheCodes = new Int32Array(1024 * 4);
  private cacheUsed = 1;

  constructor(readonly statistics: FeatureStatistics) {
    this.prior = Float64Array.from(statistics.prior);
    this.logPrior = this.prior.map((share) => Math.log(Math.max(share, 1e-9)));
    this.smoothing = statistics.smoothing;
    this.counts = statistics.classCounts;
    this.productPrice = meanPrices(statistics.priceSums.product, statistics.priceCounts.product);
    this.product10Price = meanPrices(statistics.priceSums.product10, statistics.priceCounts.product10);
    this.tiers = statistics.priceTiers;
    const stores = statistics.classCounts.store.length / 3;
    this.storeShares = new Float64Array(stores * 3);
    for (let store = 0; store < stores; store++) {
      smoothInto(statistics.classCounts.store, store, this.prior, 0, this.smoothing, this.storeShares, store * 3);
    }
  }

  /**
   * The offset in cacheValues of a line's product-dependent values: class shares down the product tree
   * (division → group → department → class → product, each smoothed towards its parent), their log
   * ratios to the prior, the expected tier, the tier likelihoods, the product's price index, and its
   * inferred price tier: as counted (one-hot when confident, nothing when its baskets could not tell)
   * and as probabilities (a softmax of its agreement counts); both its category's tier shares when no
   * training basket held it. A pure
   * function of the five codes, so it is computed once per product (and its parents, which are checked)
   * and reused: the same arithmetic in the same order, so the features are bit-identical.
   */
  private productSlot(product: number, code10: number, code20: number, code30: number, code40: number): number {
    const known = this.productSlots.get(product);
    if (known !== undefined) {
      const codes = known * 4;
      const cached = this.cacheCodes;
      if (cached[codes] === code10 && cached[codes + 1] === code20 && cached[codes + 2] === code30 && cached[codes + 3] === code40) return known * CACHE_STRIDE;
    }
    let slot = 0;
    if (known === undefined && this.cacheUsed < MAX_CACHED_PRODUCTS) {
      slot = this.cacheUsed++;
      if (slot * CACHE_STRIDE >= this.cacheValues.length) {
        const values = new Float64Array(this.cacheValues.length * 2);
        values.set(this.cacheValues);
        this.cacheValues = values;
        const codes = new Int32Array(this.cacheCodes.length * 2);
        codes.set(this.cacheCodes);
        this.cacheCodes = codes;
      }
      this.productSlots.set(product, slot);
      this.cacheCodes.set([code10, code20, code30, code40], slot * 4);
    }
    const offset = slot * CACHE_STRIDE;
    const out = this.cacheValues;
    const shares = this.lineShares;
    const levels = this.levelShares;
    smoothInto(this.counts.product40, code40, this.prior, 0, this.smoothing, levels, 12);
    smoothInto(this.counts.product30, code30, levels, 12, this.smoothing, levels, 9);
    smoothInto(this.counts.product20, code20, levels, 9, this.smoothing, levels, 6);
    smoothInto(this.counts.product10, code10, levels, 6, this.smoothing, levels, 3);
    out[offset + C_KNOWN] = smoothInto(this.counts.product, product, levels, 3, this.smoothing, shares, 0) ? 1 : 0;
    let tier = 0;
    for (let label = 0; label < 3; label++) {
      const share = shares[label];
      out[offset + C_SHARES + label] = share;
      out[offset + C_SHARES_10 + label] = levels[3 + label];
      out[offset + C_SHARES_20 + label] = levels[6 + label];
      out[offset + C_LOG_RATIO + label] = Math.log(Math.max(share, 1e-9)) - this.logPrior[label];
      tier += label * share;
    }
    out[offset + C_TIER] = tier;
    const likelyLow = shares[0] / this.prior[0];
    const likelyMiddle = shares[1] / this.prior[1];
    const likelyHigh = shares[2] / this.prior[2];
    const likelyTotal = likelyLow + likelyMiddle + likelyHigh;
    out[offset + C_LIKELY] = likelyLow / likelyTotal;
    out[offset + C_LIKELY + 1] = likelyMiddle / likelyTotal;
    out[offset + C_LIKELY + 2] = likelyHigh / likelyTotal;
    // the price index when the product's mean price is known (else the line's own unit price is used)
    const classPrice = code10 >= 0 && code10 < this.product10Price.length ? this.product10Price[code10] : 0;
    const knownPrice = product >= 0 && product < this.productPrice.length && this.productPrice[product] > 0;
    out[offset + C_PRICE_INDEX] = knownPrice && classPrice > 0 ? Math.log(Math.max(this.productPrice[product], 1e-3) / classPrice) : Number.NaN;
    const tiers = this.tiers;
    const fitted = product >= 0 && product < tiers.productTier.length ? tiers.productTier[product] : -1;
    out[offset + C_PRICE_TIER] = 0;
    out[offset + C_PRICE_TIER + 1] = 0;
    out[offset + C_PRICE_TIER + 2] = 0;
    out[offset + C_TIER_CONFIDENT] = 0;
    if (fitted >= 0) {
      const agreement = tiers.productAgreement;
      const sharpness = tiers.sharpness;
      const top = Math.max(agreement[product * 3], agreement[product * 3 + 1], agreement[product * 3 + 2]);
      const low = Math.exp(sharpness * (agreement[product * 3] - top));
      const middle = Math.exp(sharpness * (agreement[product * 3 + 1] - top));
      const high = Math.exp(sharpness * (agreement[product * 3 + 2] - top));
      const total = low + middle + high;
      out[offset + C_TIER_PROBABILITY] = low / total;
      out[offset + C_TIER_PROBABILITY + 1] = middle / total;
      out[offset + C_TIER_PROBABILITY + 2] = high / total;
    }
    if (fitted >= 0 && tierMargin(tiers, product) >= tiers.confidentMargin) {
      out[offset + C_PRICE_TIER + fitted] = 1;
      out[offset + C_TIER_CONFIDENT] = 1;
    } else if (fitted < 0) {
      const counts = tiers.levelTierCounts;
      const levelTiers = this.levelTiers;
      smoothInto(counts.product40, code40, tiers.tierPrior, 0, this.smoothing, levelTiers, 12);
      smoothInto(counts.product30, code30, levelTiers, 12, this.smoothing, levelTiers, 9);
      smoothInto(counts.product20, code20, levelTiers, 9, this.smoothing, levelTiers, 6);
      smoothInto(counts.product10, code10, levelTiers, 6, this.smoothing, levelTiers, 3);
      out[offset + C_PRICE_TIER] = levelTiers[3];
      out[offset + C_PRICE_TIER + 1] = levelTiers[4];
      out[offset + C_PRICE_TIER + 2] = levelTiers[5];
      out[offset + C_TIER_PROBABILITY] = levelTiers[3];
      out[offset + C_TIER_PROBABILITY + 1] = levelTiers[4];
      out[offset + C_TIER_PROBABILITY + 2] = levelTiers[5];
    }
    return offset;
  }

  /** Writes basket `basket`'s features into `out[offset … offset + FEATURE_COUNT - 1]`. */
  compute(batch: BasketBatch, basket: number, out: Float32Array, offset: number): void {
    const from = batch.lineStart[basket];
    const to = batch.lineStart[basket + 1];
    const lineCount = to - from;
    this.stamp += 1;
    let items = 0;
    let spend = 0;
    let distinct10 = 0;
    let distinct20 = 0;
    const divisionSpend = this.divisionSpend.fill(0);
    // learned accumulators: [SUM, WEIGHTED, MIN, MAX, LOG_RATIO, SUM_10, SUM_20, TIER_COUNT] × 3 labels
    const acc = this.accumulators.fill(0);
    acc[MIN] = 1;
    acc[MIN + 1] = 1;
    acc[MIN + 2] = 1;
    let priceIndexSum = 0;
    let priceIndexWeighted = 0;
    let priceIndexMin = Infinity;
    let priceIndexMax = -Infinity;
    let priceLines = 0;
    let priceSpend = 0;
    let tierSum = 0;
    let tierSquares = 0;
    let tierWeighted = 0;
    let unseen = 0;
    let confidentLines = 0;
    let confidentDifference = 0;
    // The label follows the products' price tiers: UM when a basket holds more up-market than
    // less-affluent lines, LA when fewer, MM on a tie. Each line's tier is uncertain (its product's
    // shares relative to the prior), so track the distribution of the difference.
    // (and the same over the inferred price tiers, for the basket rule with its fitted thresholds)
    if (this.ruleDistribution.length < 2 * lineCount + 3) {
      this.ruleDistribution = new Float64Array(2 * lineCount + 3);
      this.ruleNext = new Float64Array(2 * lineCount + 3);
      this.tierDistribution = new Float64Array(2 * lineCount + 3);
      this.tierNext = new Float64Array(2 * lineCount + 3);
    }
    let rule = this.ruleDistribution;
    let ruleNext = this.ruleNext;
    let tierRule = this.tierDistribution;
    let tierNext = this.tierNext;
    rule.fill(0, 0, 2 * lineCount + 3);
    tierRule.fill(0, 0, 2 * lineCount + 3);
    rule[lineCount] = 1;
    tierRule[lineCount] = 1;
    let ruleLow = lineCount;
    let ruleHigh = lineCount;
    let expectedDifference = 0;

    for (let line = from; line < to; line++) {
      const quantity = batch.quantity[line];
      const lineSpend = batch.spend[line];
      items += quantity;
      spend += lineSpend;
      const division = batch.product40[line];
      if (division >= 1 && division <= 9) divisionSpend[division - 1] += lineSpend;
      const code10 = batch.product10[line];
      const code20 = batch.product20[line];
      if (code10 >= 0 && code10 < this.seen10.length && this.seen10[code10] !== this.stamp) {
        this.seen10[code10] = this.stamp;
        distinct10 += 1;
      }
      if (code20 >= 0 && code20 < this.seen20.length && this.seen20[code20] !== this.stamp) {
        this.seen20[code20] = this.stamp;
        distinct20 += 1;
      }

      // everything that depends only on the line's product codes, computed once per product
      const product = batch.product[line];
      const slot = this.productSlot(product, code10, code20, batch.product30[line], division);
      const cached = this.cacheValues;
      if (cached[slot + C_KNOWN] === 0) unseen += 1;
      for (let label = 0; label < 3; label++) {
        const share = cached[slot + C_SHARES + label];
        acc[SUM + label] += share;
        acc[WEIGHTED + label] += share * lineSpend;
        if (share < acc[MIN + label]) acc[MIN + label] = share;
        if (share > acc[MAX + label]) acc[MAX + label] = share;
        acc[LOG_RATIO + label] += cached[slot + C_LOG_RATIO + label];
        acc[SUM_10 + label] += cached[slot + C_SHARES_10 + label];
        acc[SUM_20 + label] += cached[slot + C_SHARES_20 + label];
        acc[TIER_COUNT + label] += cached[slot + C_PRICE_TIER + label];
      }
      if (cached[slot + C_TIER_CONFIDENT] === 1) {
        confidentLines += 1;
        confidentDifference += cached[slot + C_PRICE_TIER + 2] - cached[slot + C_PRICE_TIER];
      }
      const tier = cached[slot + C_TIER];
      tierSum += tier;
      tierSquares += tier * tier;
      const low = cached[slot + C_LIKELY];
      const middle = cached[slot + C_LIKELY + 1];
      const high = cached[slot + C_LIKELY + 2];
      expectedDifference += high - low;
      const tierLow = cached[slot + C_TIER_PROBABILITY];
      const tierMiddle = cached[slot + C_TIER_PROBABILITY + 1];
      const tierHigh = cached[slot + C_TIER_PROBABILITY + 2];
      ruleNext.fill(0, ruleLow - 1, ruleHigh + 2);
      tierNext.fill(0, ruleLow - 1, ruleHigh + 2);
      for (let difference = ruleLow; difference <= ruleHigh; difference++) {
        const mass = rule[difference];
        ruleNext[difference - 1] += mass * low;
        ruleNext[difference] += mass * middle;
        ruleNext[difference + 1] += mass * high;
        const tierMass = tierRule[difference];
        tierNext[difference - 1] += tierMass * tierLow;
        tierNext[difference] += tierMass * tierMiddle;
        tierNext[difference + 1] += tierMass * tierHigh;
      }
      const swap = rule;
      rule = ruleNext;
      ruleNext = swap;
      const swapTier = tierRule;
      tierRule = tierNext;
      tierNext = swapTier;
      ruleLow -= 1;
      ruleHigh += 1;
      tierWeighted += tier * lineSpend;

      // price position: the line's unit price against its class's mean unit price
      const classPrice = code10 >= 0 && code10 < this.product10Price.length ? this.product10Price[code10] : 0;
      if (quantity > 0 && classPrice > 0) {
        const productIndex = cached[slot + C_PRICE_INDEX];
        const index = Number.isNaN(productIndex) ? Math.log(Math.max(lineSpend / quantity, 1e-3) / classPrice) : productIndex;
        priceIndexSum += index;
        priceIndexWeighted += index * lineSpend;
        if (index < priceIndexMin) priceIndexMin = index;
        if (index > priceIndexMax) priceIndexMax = index;
        priceLines += 1;
        priceSpend += lineSpend;
      }
    }

    let cursor = offset;
    // context
    out[cursor++] = lineCount;
    out[cursor++] = items;
    out[cursor++] = Math.log1p(Math.max(spend, 0));
    out[cursor++] = items > 0 ? spend / items : 0;
    out[cursor++] = distinct10;
    out[cursor++] = distinct20;
    out[cursor++] = items <= 2 ? 1 : 0;
    out[cursor++] = items > 2 && items <= 9 ? 1 : 0;
    out[cursor++] = items > 9 ? 1 : 0;
    cursor = oneHot(out, cursor, batch.basketType[basket], 4);
    cursor = oneHot(out, cursor, batch.mission[basket], 5);
    cursor = oneHot(out, cursor, batch.storeFormat[basket], 4);
    cursor = oneHot(out, cursor, batch.storeRegion[basket], 12);
    const weekday = batch.weekday[basket];
    out[cursor++] = weekday;
    out[cursor++] = weekday === 1 || weekday === 7 ? 1 : 0;
    out[cursor++] = batch.hour[basket];
    for (let division = 0; division < 9; division++) out[cursor++] = spend > 0 ? divisionSpend[division] / spend : 0;
    // learned
    const lines = Math.max(lineCount, 1);
    const spendWeight = spend > 0 ? spend : 1;
    for (let label = 0; label < 3; label++) out[cursor++] = lineCount > 0 ? acc[SUM + label] / lines : this.prior[label];
    for (let label = 0; label < 3; label++) out[cursor++] = spend > 0 ? acc[WEIGHTED + label] / spendWeight : this.prior[label];
    for (let label = 0; label < 3; label++) out[cursor++] = lineCount > 0 ? acc[MIN + label] : this.prior[label];
    for (let label = 0; label < 3; label++) out[cursor++] = lineCount > 0 ? acc[MAX + label] : this.prior[label];
    for (let label = 0; label < 3; label++) out[cursor++] = acc[LOG_RATIO + label];
    // naive Bayes posterior: prior × Π share/prior, normalised
    const score0 = this.logPrior[0] + acc[LOG_RATIO];
    const score1 = this.logPrior[1] + acc[LOG_RATIO + 1];
    const score2 = this.logPrior[2] + acc[LOG_RATIO + 2];
    const top = Math.max(score0, score1, score2);
    const exp0 = Math.exp(score0 - top);
    const exp1 = Math.exp(score1 - top);
    const exp2 = Math.exp(score2 - top);
    const total = exp0 + exp1 + exp2;
    out[cursor++] = exp0 / total;
    out[cursor++] = exp1 / total;
    out[cursor++] = exp2 / total;
    for (let label = 0; label < 3; label++) out[cursor++] = lineCount > 0 ? acc[SUM_10 + label] / lines : this.prior[label];
    for (let label = 0; label < 3; label++) out[cursor++] = lineCount > 0 ? acc[SUM_20 + label] / lines : this.prior[label];
    const store = batch.storeNumber[basket];
    const storeKnown = store >= 0 && store * 3 < this.storeShares.length;
    for (let label = 0; label < 3; label++) out[cursor++] = storeKnown ? this.storeShares[store * 3 + label] : this.prior[label];
    let ruleBelow = 0;
    let ruleAbove = 0;
    for (let difference = ruleLow; difference < lineCount; difference++) ruleBelow += rule[difference];
    for (let difference = lineCount + 1; difference <= ruleHigh; difference++) ruleAbove += rule[difference];
    out[cursor++] = lineCount > 0 ? ruleBelow : this.prior[0];
    out[cursor++] = lineCount > 0 ? rule[lineCount] : this.prior[1];
    out[cursor++] = lineCount > 0 ? ruleAbove : this.prior[2];
    out[cursor++] = expectedDifference;
    out[cursor++] = priceLines > 0 ? priceIndexSum / priceLines : 0;
    out[cursor++] = priceSpend > 0 ? priceIndexWeighted / priceSpend : 0;
    out[cursor++] = priceLines > 0 ? priceIndexMin : 0;
    out[cursor++] = priceLines > 0 ? priceIndexMax : 0;
    const tierMean = lineCount > 0 ? tierSum / lines : 1;
    out[cursor++] = tierMean;
    out[cursor++] = spend > 0 ? tierWeighted / spendWeight : tierMean;
    out[cursor++] = lineCount > 0 ? Math.sqrt(Math.max(tierSquares / lines - tierMean * tierMean, 0)) : 0;
    out[cursor++] = lineCount > 0 ? unseen / lines : 1;
    // inferred price tiers and the basket rule on them: LA below the lower threshold, UM above the upper
    for (let label = 0; label < 3; label++) out[cursor++] = acc[TIER_COUNT + label];
    for (let label = 0; label < 3; label++) out[cursor++] = acc[TIER_COUNT + label] / lines;
    const tierScore = (acc[TIER_COUNT + 2] - acc[TIER_COUNT]) / lines;
    const lower = this.tiers.lowerThreshold;
    const upper = this.tiers.upperThreshold;
    out[cursor++] = tierScore;
    out[cursor++] = tierScore - lower;
    out[cursor++] = tierScore - upper;
    out[cursor++] = confidentLines;
    out[cursor++] = confidentLines / lines;
    // the score's range whatever tiers the other lines have: UM for sure above the upper threshold, LA below the lower
    const uncertainLines = lineCount - confidentLines;
    out[cursor++] = (confidentDifference - uncertainLines) / lines - upper;
    out[cursor++] = (confidentDifference + uncertainLines) / lines - lower;
    // the rule's label probabilities over the lines' tier probabilities
    let tierBelow = 0;
    let tierBetween = 0;
    let tierAbove = 0;
    for (let difference = ruleLow; difference <= ruleHigh; difference++) {
      const score = (difference - lineCount) / lines;
      if (score < lower) tierBelow += tierRule[difference];
      else if (score > upper) tierAbove += tierRule[difference];
      else tierBetween += tierRule[difference];
    }
    out[cursor++] = tierBelow;
    out[cursor++] = tierBetween;
    out[cursor++] = tierAbove;
    if (cursor - offset !== FEATURE_COUNT) throw new Error(`feature function wrote ${cursor - offset} values, the spec has ${FEATURE_COUNT}`);
  }
}

// a product's cached line values (BasketFeatures.productSlot)
const C_SHARES = 0;
const C_SHARES_10 = 3;
const C_SHARES_20 = 6;
const C_LOG_RATIO = 9;
const C_LIKELY = 12;
const C_TIER = 15;
const C_KNOWN = 16;
const C_PRICE_INDEX = 17;
const C_PRICE_TIER = 18;
const C_TIER_CONFIDENT = 21;
const C_TIER_PROBABILITY = 22;
const CACHE_STRIDE = 25;
/** Products whose line values are kept (beyond: computed per line, as before). */
const MAX_CACHED_PRODUCTS = 1 << 20;

// offsets into BasketFeatures' accumulators
const SUM = 0;
const WEIGHTED = 3;
const MIN = 6;
const MAX = 9;
const LOG_RATIO = 12;
const SUM_10 = 15;
const SUM_20 = 18;
const TIER_COUNT = 21;

/**
 * Class shares of `code` at one level, smoothed towards its parent's shares:
 * (count_k + m · parent_k) / (n + m). Returns whether the code was seen in training.
 */
function smoothInto(
  counts: Float64Array,
  code: number,
  parent: ArrayLike<number>,
  parentOffset: number,
  smoothing: number,
  out: Float64Array,
  outOffset: number,
): boolean {
  const base = code * 3;
  if (code < 0 || base + 2 >= counts.length) {
    out[outOffset] = parent[parentOffset];
    out[outOffset + 1] = parent[parentOffset + 1];
    out[outOffset + 2] = parent[parentOffset + 2];
    return false;
  }
  const a = counts[base];
  const b = counts[base + 1];
  const c = counts[base + 2];
  const denominator = a + b + c + smoothing;
  out[outOffset] = (a + smoothing * parent[parentOffset]) / denominator;
  out[outOffset + 1] = (b + smoothing * parent[parentOffset + 1]) / denominator;
  out[outOffset + 2] = (c + smoothing * parent[parentOffset + 2]) / denominator;
  return a + b + c > 0;
}

function oneHot(out: Float32Array, cursor: number, code: number, width: number): number {
  for (let index = 1; index <= width; index++) out[cursor++] = code === index ? 1 : 0;
  return cursor;
}

function meanPrices(sums: Float64Array, counts: Float64Array): Float64Array {
  return sums.map((sum, index) => (counts[index] > 0 ? sum / counts[index] : 0));
}

/** Features of every basket in `rows` (default: all), row-major. */
export function featureMatrix(features: BasketFeatures, batch: BasketBatch, rows?: ArrayLike<number>): Float32Array {
  const count = rows ? rows.length : batch.size;
  const values = new Float32Array(count * FEATURE_COUNT);
  for (let index = 0; index < count; index++) features.compute(batch, rows ? rows[index] : index, values, index * FEATURE_COUNT);
  return values;
}

/** The context-only columns of a full feature matrix (for the baseline model). */
export function contextColumns(values: Float32Array, rows: number): Float32Array {
  const context = new Float32Array(rows * CONTEXT_FEATURE_COUNT);
  for (let row = 0; row < rows; row++) {
    context.set(values.subarray(row * FEATURE_COUNT, row * FEATURE_COUNT + CONTEXT_FEATURE_COUNT), row * CONTEXT_FEATURE_COUNT);
  }
  return context;
}
