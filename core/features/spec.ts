import { createHash } from 'node:crypto';
import { BASKET_MISSIONS, BASKET_TYPES, PRICE_SENSITIVITY_CLASSES, STORE_FORMATS, STORE_REGIONS } from '../schema/lgsr';

/**
 * The feature specification: names in vector order, a version bumped with any change to what a
 * name means, and a hash of both. A model records the hash it was trained with; the server refuses
 * a model whose hash differs from its own features'.
 */
export const FEATURE_SPEC_VERSION = '1.2.0';

const perClass = (stem: string): string[] => PRICE_SENSITIVITY_CLASSES.map((label) => `${stem}_${label}`);
const slug = (value: string): string => value.toLowerCase().replace(/[^a-z0-9]+/g, '_');

export const CONTEXT_FEATURES = [
  'lines',
  'items',
  'log_spend',
  'mean_unit_price',
  'distinct_product10',
  'distinct_product20',
  'size_S',
  'size_M',
  'size_L',
  ...BASKET_TYPES.map((value) => `type_${slug(value)}`),
  ...BASKET_MISSIONS.map((value) => `mission_${slug(value)}`),
  ...STORE_FORMATS.map((value) => `format_${slug(value)}`),
  ...STORE_REGIONS.map((value) => `region_${slug(value)}`),
  'weekday',
  'weekend',
  'hour',
  ...Array.from({ length: 9 }, (_, index) => `spend_share_division_${index + 1}`),
] as const;

export const LEARNED_FEATURES = [
  ...perClass('product_share_mean'),
  ...perClass('product_share_spend_weighted'),
  ...perClass('product_share_min'),
  ...perClass('product_share_max'),
  ...perClass('product_log_ratio_sum'),
  ...perClass('product_naive_bayes'),
  ...perClass('product10_share_mean'),
  ...perClass('product20_share_mean'),
  ...perClass('store_share'),
  ...perClass('tier_rule'),
  'tier_rule_expected_difference',
  'price_index_mean',
  'price_index_spend_weighted',
  'price_index_min',
  'price_index_max',
  'tier_mean',
  'tier_spend_weighted',
  'tier_std',
  'unseen_product_share',
  ...perClass('price_tier_count'),
  ...perClass('price_tier_share'),
  'price_tier_score',
  'price_tier_margin_lower',
  'price_tier_margin_upper',
  'price_tier_confident_lines',
  'price_tier_confident_share',
  'price_tier_lowest_margin_upper',
  'price_tier_highest_margin_lower',
  ...perClass('price_tier_rule'),
] as const;

export const FEATURE_NAMES: readonly string[] = [...CONTEXT_FEATURES, ...LEARNED_FEATURES];
export const FEATURE_COUNT = FEATURE_NAMES.length;
/** The features that need no learned statistics: the context-only baseline uses just these. */
export const CONTEXT_FEATURE_COUNT = CONTEXT_FEATURES.length;

export interface FeatureSpec {
  readonly version: string;
  readonly hash: string;
  readonly names: readonly string[];
}

export const FEATURE_SPEC: FeatureSpec = {
  version: FEATURE_SPEC_VERSION,
  names: FEATURE_NAMES,
  hash: createHash('sha256').update(JSON.stringify({ version: FEATURE_SPEC_VERSION, names: FEATURE_NAMES })).digest('hex').slice(0, 16),
};
