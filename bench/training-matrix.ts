/**
 * The training benchmark's matrix on disk, in a format both TypeScript and numpy read without parsing:
 *
 *   DIR/meta.json   { "rows", "columns", "classes": [...], "trainRows"?, "featureNames"? }
 *   DIR/values.f32  rows × columns float32, row-major, little-endian
 *   DIR/labels.i32  rows int32 class indices
 *
 * Rows [0, trainRows) train, the rest are held out (default: the last 20%). A matrix exported from the
 * real feature pipeline uses the same layout, ordered by week so the held-out rows are the latest weeks.
 *
 * `writeSyntheticMatrix` makes a realistic stand-in: baskets whose products sit at latent price tiers,
 * summarised the way the feature pipeline summarises them (tier shares, per-product and per-category
 * label statistics with noise, spend and quantity aggregates, one-hot context, a few pure-noise columns).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { SeededRandom } from '../core/training/trees/random';

export interface MatrixOnDisk {
  readonly rows: number;
  readonly columns: number;
  readonly classes: readonly string[];
  readonly trainRows: number;
  readonly values: Float32Array;
  readonly labels: Int32Array;
}

interface MatrixMeta {
  readonly rows: number;
  readonly columns: number;
  readonly classes: readonly string[];
  readonly trainRows?: number;
  readonly featureNames?: readonly string[];
}

export function readMatrix(directory: string): MatrixOnDisk {
  const meta = JSON.parse(readFileSync(path.join(directory, 'meta.json'), 'utf8')) as MatrixMeta;
  const valueBytes = readFileSync(path.join(directory, 'values.f32'));
  const labelBytes = readFileSync(path.join(directory, 'labels.i32'));
  if (valueBytes.length !== meta.rows * meta.columns * 4 || labelBytes.length !== meta.rows * 4) {
    throw new Error(`${directory}: values.f32/labels.i32 sizes do not match meta.json (${meta.rows} × ${meta.columns})`);
  }
  const values = new Float32Array(meta.rows * meta.columns);
  new Uint8Array(values.buffer).set(valueBytes);
  const labels = new Int32Array(meta.rows);
  new Uint8Array(labels.buffer).set(labelBytes);
  return {
    rows: meta.rows,
    columns: meta.columns,
    classes: meta.classes,
    trainRows: meta.trainRows ?? Math.floor(meta.rows * 0.8),
    values,
    labels,
  };
}

export function writeMatrix(directory: string, matrix: MatrixOnDisk, featureNames?: readonly string[]): void {
  const meta: MatrixMeta = { rows: matrix.rows, columns: matrix.columns, classes: matrix.classes, trainRows: matrix.trainRows, featureNames };
  writeFileSync(path.join(directory, 'meta.json'), `${JSON.stringify(meta)}\n`);
  writeFileSync(path.join(directory, 'values.f32'), new Uint8Array(matrix.values.buffer, matrix.values.byteOffset, matrix.values.byteLength));
  writeFileSync(path.join(directory, 'labels.i32'), new Uint8Array(matrix.labels.buffer, matrix.labels.byteOffset, matrix.labels.byteLength));
}

/** Standard normal draw (Box–Muller). */
function normal(random: SeededRandom): number {
  return Math.sqrt(-2 * Math.log(1 - random.nextFloat())) * Math.cos(2 * Math.PI * random.nextFloat());
}

function poisson(random: SeededRandom, mean: number): number {
  const limit = Math.exp(-mean);
  let count = 0;
  let product = random.nextFloat();
  while (product > limit) {
    count++;
    product *= random.nextFloat();
  }
  return count;
}

/** A synthetic basket matrix with LGSR-like class balance (LA 23%, MM 51%, UM 24%) and 40 columns. */
export function syntheticMatrix(rows: number, seed: number): { matrix: MatrixOnDisk; featureNames: string[] } {
  const random = new SeededRandom(seed);
  const featureNames = [
    'item_count', 'distinct_products', 'total_spend', 'mean_unit_price', 'max_unit_price', 'total_quantity',
    'share_tier_low', 'share_tier_mid', 'share_tier_high', 'mean_tier',
    'product_rate_la', 'product_rate_mm', 'product_rate_um', 'category_rate_la', 'category_rate_mm', 'category_rate_um',
    'department_rate_la', 'department_rate_um', 'price_position', 'price_position_max',
    'shop_hour', 'shop_weekday', 'store_format_ls', 'store_format_ms', 'store_format_ss', 'store_format_xls',
    'region', 'type_small', 'type_top_up', 'type_full', 'mission_fresh', 'mission_grocery', 'mission_mixed', 'mission_nonfood',
    'customer_known', 'noise_1', 'noise_2', 'noise_3', 'noise_4', 'noise_5',
  ];
  const columns = featureNames.length;
  const values = new Float32Array(rows * columns);
  const labels = new Int32Array(rows);
  const tierShare = new Float64Array(3);
  for (let row = 0; row < rows; row++) {
    const affluence = normal(random);
    const basketType = random.nextFloat();
    const typeIndex = basketType < 0.55 ? 0 : basketType < 0.88 ? 1 : 2;
    const items = 1 + poisson(random, [1.5, 5, 18][typeIndex]);
    tierShare.fill(0);
    let spend = 0;
    let maxPrice = 0;
    let quantity = 0;
    let tierSum = 0;
    for (let item = 0; item < items; item++) {
      // a product's tier leans with the shopper's affluence
      const lean = affluence + 0.6 * normal(random);
      const tier = lean < -0.75 ? 0 : lean > 0.75 ? 2 : 1;
      tierShare[tier]++;
      tierSum += tier;
      const unitPrice = Math.exp(0.3 + 0.35 * tier + 0.5 * normal(random));
      const count = 1 + (random.nextFloat() < 0.18 ? poisson(random, 1) : 0);
      spend += unitPrice * count;
      quantity += count;
      maxPrice = Math.max(maxPrice, unitPrice);
    }
    const meanTier = tierSum / items;
    // the label follows the tiers of the basket's products, with noise that grows for small baskets
    const signal = meanTier - 1 + (0.55 / Math.sqrt(items)) * normal(random) + 0.12 * normal(random);
    const label = signal < -0.33 ? 0 : signal > 0.3 ? 2 : 1;
    labels[row] = label;
    const rate = (trueShare: number, noise: number): number => Math.min(1, Math.max(0, trueShare + noise * normal(random)));
    const lowShare = tierShare[0] / items;
    const highShare = tierShare[2] / items;
    const base = row * columns;
    const feature = [
      items, Math.max(1, items - poisson(random, items * 0.05)), spend, spend / quantity, maxPrice, quantity,
      lowShare, tierShare[1] / items, highShare, meanTier,
      rate(0.1 + 0.7 * lowShare, 0.08), rate(0.5, 0.1), rate(0.1 + 0.7 * highShare, 0.08),
      rate(0.15 + 0.5 * lowShare, 0.1), rate(0.5, 0.1), rate(0.15 + 0.5 * highShare, 0.1),
      rate(0.2 + 0.3 * lowShare, 0.12), rate(0.2 + 0.3 * highShare, 0.12),
      meanTier + 0.25 * normal(random), Math.min(2, meanTier + Math.abs(0.5 * normal(random))),
      8 + random.nextInt(14), 1 + random.nextInt(7),
    ];
    const format = random.nextInt(4);
    for (let index = 0; index < 4; index++) feature.push(index === format ? 1 : 0);
    feature.push(random.nextInt(12));
    for (let index = 0; index < 3; index++) feature.push(index === typeIndex ? 1 : 0);
    const mission = random.nextInt(4);
    for (let index = 0; index < 4; index++) feature.push(index === mission ? 1 : 0);
    feature.push(random.nextFloat() < 0.8 ? 1 : 0);
    for (let index = 0; index < 5; index++) feature.push(normal(random));
    for (let column = 0; column < columns; column++) values[base + column] = feature[column];
  }
  return {
    matrix: { rows, columns, classes: ['LA', 'MM', 'UM'], trainRows: Math.floor(rows * 0.8), values, labels },
    featureNames,
  };
}
