import type { BasketBatch } from './basket-batch';
import { fitPriceTiers, priceTiersFromDocument, priceTiersToDocument, type FitPriceTiersOptions, type PriceTiers, type PriceTiersDocument } from './price-tiers';

/** The learned part of the features: label and price statistics of products, categories and stores. */
export interface FeatureStatistics {
  readonly formatVersion: 2;
  /** Baskets (LA/MM/UM only) the statistics were fitted on. */
  readonly baskets: number;
  /** Weeks they came from. */
  readonly weeks: readonly number[];
  /** Class shares of the fitted baskets (LA, MM, UM). */
  readonly prior: readonly number[];
  /** Pseudo-count pulling a level's class shares towards its parent's. */
  readonly smoothing: number;
  /** A line counts 1 / lines^power towards its codes' class counts (small baskets say more about a product's tier). */
  readonly lineWeightPower: number;
  /** Per level: class counts by code number, flat [code·3 + class]. */
  readonly classCounts: Readonly<Record<StatisticsLevel, Float64Array>>;
  /** Per level except store: summed unit price and line count by code number, for the mean unit price. */
  readonly priceSums: Readonly<Record<PriceLevel, Float64Array>>;
  readonly priceCounts: Readonly<Record<PriceLevel, Float64Array>>;
  /** Inferred product price tiers and the basket rule's thresholds (price-tiers.ts). */
  readonly priceTiers: PriceTiers;
}

/** The product tree from leaf to root, plus stores. */
export const STATISTICS_LEVELS = ['product', 'product10', 'product20', 'product30', 'product40', 'store'] as const;
export type StatisticsLevel = (typeof STATISTICS_LEVELS)[number];
export const PRICE_LEVELS = ['product', 'product10'] as const;
export type PriceLevel = (typeof PRICE_LEVELS)[number];

/** Fitting options. */
export interface FitStatisticsOptions extends FitPriceTiersOptions {
  /** Pseudo-count of the hierarchical smoothing. @default 1.5 */
  readonly smoothing?: number;
  /**
   * A line of a basket with L lines adds 1 / L^power to its codes' class counts: a product alone in a
   * basket determines the label, one of forty barely moves it. @default 0.75
   */
  readonly lineWeightPower?: number;
}

function codeColumn(batch: BasketBatch, level: StatisticsLevel): ArrayLike<number> | undefined {
  switch (level) {
    case 'product':
      return batch.product;
    case 'product10':
      return batch.product10;
    case 'product20':
      return batch.product20;
    case 'product30':
      return batch.product30;
    case 'product40':
      return batch.product40;
    case 'store':
      return undefined;
  }
}

/**
 * Fits the statistics on the baskets `rows` of a batch (labels LA/MM/UM; XX and unknown are
 * skipped). Only ever called with training baskets: anything learned from data comes from the
 * training weeks.
 */
export function fitFeatureStatistics(batch: BasketBatch, rows: ArrayLike<number>, options: FitStatisticsOptions = {}): FeatureStatistics {
  const sizes: Record<StatisticsLevel, number> = { product: 0, product10: 0, product20: 0, product30: 0, product40: 0, store: 0 };
  for (let index = 0; index < rows.length; index++) {
    const basket = rows[index];
    sizes.store = Math.max(sizes.store, batch.storeNumber[basket] + 1);
    for (let line = batch.lineStart[basket]; line < batch.lineStart[basket + 1]; line++) {
      sizes.product = Math.max(sizes.product, batch.product[line] + 1);
      sizes.product10 = Math.max(sizes.product10, batch.product10[line] + 1);
      sizes.product20 = Math.max(sizes.product20, batch.product20[line] + 1);
      sizes.product30 = Math.max(sizes.product30, batch.product30[line] + 1);
      sizes.product40 = Math.max(sizes.product40, batch.product40[line] + 1);
    }
  }
  const classCounts = Object.fromEntries(
    STATISTICS_LEVELS.map((level) => [level, new Float64Array(sizes[level] * 3)]),
  ) as Record<StatisticsLevel, Float64Array>;
  const priceSums = Object.fromEntries(PRICE_LEVELS.map((level) => [level, new Float64Array(sizes[level])])) as Record<PriceLevel, Float64Array>;
  const priceCounts = Object.fromEntries(PRICE_LEVELS.map((level) => [level, new Float64Array(sizes[level])])) as Record<PriceLevel, Float64Array>;
  const smoothing = options.smoothing ?? 1.5;
  const lineWeightPower = options.lineWeightPower ?? 0.75;
  const prior = [0, 0, 0];
  const weeks = new Set<number>();
  let baskets = 0;
  for (let index = 0; index < rows.length; index++) {
    const basket = rows[index];
    const label = batch.label[basket];
    if (label < 0) continue;
    baskets += 1;
    prior[label] += 1;
    weeks.add(batch.week[basket]);
    if (batch.storeNumber[basket] >= 0) classCounts.store[batch.storeNumber[basket] * 3 + label] += 1;
    const lineWeight = Math.pow(Math.max(batch.lineStart[basket + 1] - batch.lineStart[basket], 1), -lineWeightPower);
    for (let line = batch.lineStart[basket]; line < batch.lineStart[basket + 1]; line++) {
      for (const level of STATISTICS_LEVELS) {
        const codes = codeColumn(batch, level);
        if (codes && codes[line] >= 0) classCounts[level][codes[line] * 3 + label] += lineWeight;
      }
      const quantity = batch.quantity[line];
      if (quantity > 0) {
        const unitPrice = batch.spend[line] / quantity;
        priceSums.product[batch.product[line]] += unitPrice;
        priceCounts.product[batch.product[line]] += 1;
        priceSums.product10[batch.product10[line]] += unitPrice;
        priceCounts.product10[batch.product10[line]] += 1;
      }
    }
  }
  return {
    formatVersion: 2,
    baskets,
    weeks: [...weeks].sort((a, b) => a - b),
    prior: prior.map((count) => (baskets > 0 ? count / baskets : 1 / 3)),
    smoothing,
    lineWeightPower,
    classCounts,
    priceSums,
    priceCounts,
    priceTiers: fitPriceTiers(batch, rows, options),
  };
}

/** JSON form of the statistics (the artifact stored beside the model); counts as plain arrays. */
export interface FeatureStatisticsDocument {
  readonly formatVersion: 2;
  readonly baskets: number;
  readonly weeks: readonly number[];
  readonly prior: readonly number[];
  readonly smoothing: number;
  readonly lineWeightPower: number;
  readonly classCounts: Readonly<Record<StatisticsLevel, readonly number[]>>;
  readonly priceSums: Readonly<Record<PriceLevel, readonly number[]>>;
  readonly priceCounts: Readonly<Record<PriceLevel, readonly number[]>>;
  readonly priceTiers: PriceTiersDocument;
}


export function statisticsToDocument(statistics: FeatureStatistics): FeatureStatisticsDocument {
  const plain = <K extends string>(record: Readonly<Record<K, Float64Array>>): Record<K, number[]> =>
    Object.fromEntries(Object.entries(record).map(([key, values]) => [key, Array.from(values as Float64Array)])) as Record<K, number[]>;
  return {
    ...statistics,
    classCounts: plain(statistics.classCounts),
    priceSums: plain(statistics.priceSums),
    priceCounts: plain(statistics.priceCounts),
    priceTiers: priceTiersToDocument(statistics.priceTiers),
  };
}

export function statisticsFromDocument(document: FeatureStatisticsDocument): FeatureStatistics {
  const typed = <K extends string>(record: Readonly<Record<K, readonly number[]>>): Record<K, Float64Array> =>
    Object.fromEntries(Object.entries(record).map(([key, values]) => [key, Float64Array.from(values as number[])])) as Record<K, Float64Array>;
  return {
    ...document,
    classCounts: typed(document.classCounts),
    priceSums: typed(document.priceSums),
    priceCounts: typed(document.priceCounts),
    priceTiers: priceTiersFromDocument(document.priceTiers),
  };
}
