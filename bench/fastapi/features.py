"""The basket features of retail-mlops' feature spec 1.2.0 in numpy: a port of core/features/compute.ts.

The same 101 values from the same fitted statistics (a model version's `feature-statistics.json`),
equal to the TypeScript function's to float32 rounding (tests/bench/fastapi-baseline.test.ts checks
it on the real sample). Vocabularies and names are repeated from core/schema/lgsr.ts and
core/features/spec.ts; the service refuses a model whose exported spec differs from them.

    /usr/bin/python3 bench/fastapi/features.py STATISTICS_JSON BASKETS_JSON OUT_F32

validates the baskets (a JSON array of request bodies) with the service's schema and writes their
features as float32 [baskets, 101], row-major (what the parity test compares).
"""
from __future__ import annotations

import json
import re
import sys
from typing import Any, Mapping, NamedTuple, Sequence

import numpy as np

FEATURE_SPEC_VERSION = "1.2.0"
CLASSES = ("LA", "MM", "UM")
BASKET_TYPES = ("Small Shop", "Top Up", "Full Shop", "XX")
BASKET_MISSIONS = ("Fresh", "Mixed", "Grocery", "Nonfood", "XX")
STORE_FORMATS = ("LS", "MS", "SS", "XLS")
STORE_REGIONS = ("E01", "E02", "E03", "N01", "N02", "N03", "S01", "S02", "S03", "W01", "W02", "W03")
DIVISIONS = 9


def _slug(value: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", value.lower())


def _per_class(stem: str) -> list[str]:
    return [f"{stem}_{label}" for label in CLASSES]


FEATURE_NAMES: tuple[str, ...] = tuple(
    ["lines", "items", "log_spend", "mean_unit_price", "distinct_product10", "distinct_product20", "size_S", "size_M", "size_L"]
    + [f"type_{_slug(value)}" for value in BASKET_TYPES]
    + [f"mission_{_slug(value)}" for value in BASKET_MISSIONS]
    + [f"format_{_slug(value)}" for value in STORE_FORMATS]
    + [f"region_{_slug(value)}" for value in STORE_REGIONS]
    + ["weekday", "weekend", "hour"]
    + [f"spend_share_division_{index + 1}" for index in range(DIVISIONS)]
    + _per_class("product_share_mean")
    + _per_class("product_share_spend_weighted")
    + _per_class("product_share_min")
    + _per_class("product_share_max")
    + _per_class("product_log_ratio_sum")
    + _per_class("product_naive_bayes")
    + _per_class("product10_share_mean")
    + _per_class("product20_share_mean")
    + _per_class("store_share")
    + _per_class("tier_rule")
    + ["tier_rule_expected_difference", "price_index_mean", "price_index_spend_weighted", "price_index_min", "price_index_max"]
    + ["tier_mean", "tier_spend_weighted", "tier_std", "unseen_product_share"]
    + _per_class("price_tier_count")
    + _per_class("price_tier_share")
    + ["price_tier_score", "price_tier_margin_lower", "price_tier_margin_upper", "price_tier_confident_lines", "price_tier_confident_share"]
    + ["price_tier_lowest_margin_upper", "price_tier_highest_margin_lower"]
    + _per_class("price_tier_rule")
)
FEATURE_COUNT = len(FEATURE_NAMES)
VOCABULARIES = {"storeFormat": STORE_FORMATS, "storeRegion": STORE_REGIONS, "basketType": BASKET_TYPES, "mission": BASKET_MISSIONS}

_LEVELS = ("product", "product10", "product20", "product30", "product40", "store")
_TIER_LEVELS = ("product10", "product20", "product30", "product40")


class EncodedBasket(NamedTuple):
    """One basket as numbers: categories as 1-based vocabulary codes, product codes as their numeric parts."""

    store: int
    store_format: int
    store_region: int
    weekday: int
    hour: int
    basket_type: int
    mission: int
    product: np.ndarray
    product10: np.ndarray
    product20: np.ndarray
    product30: np.ndarray
    product40: np.ndarray
    quantity: np.ndarray
    spend: np.ndarray


def encode_basket(context: Any, lines: Sequence[Any]) -> EncodedBasket:
    """A validated basket (attributes named as the LGSR columns) → numbers. Codes passed the schema's patterns."""
    codes = np.array(
        [(int(line.PROD_CODE[3:]), int(line.PROD_CODE_10[2:]), int(line.PROD_CODE_20[3:]), int(line.PROD_CODE_30[1:]), int(line.PROD_CODE_40[1:])) for line in lines],
        dtype=np.int64,
    ).reshape(-1, 5)
    # the TypeScript batch holds QUANTITY and SPEND as float32: round them the same way
    amounts = np.array([(line.QUANTITY, line.SPEND) for line in lines], dtype=np.float32).astype(np.float64).reshape(-1, 2)
    return EncodedBasket(
        store=int(context.STORE_CODE[5:]),
        store_format=STORE_FORMATS.index(context.STORE_FORMAT) + 1,
        store_region=STORE_REGIONS.index(context.STORE_REGION) + 1,
        weekday=context.SHOP_WEEKDAY,
        hour=context.SHOP_HOUR,
        basket_type=BASKET_TYPES.index(context.BASKET_TYPE) + 1,
        mission=BASKET_MISSIONS.index(context.BASKET_DOMINANT_MISSION) + 1,
        product=codes[:, 0],
        product10=codes[:, 1],
        product20=codes[:, 2],
        product30=codes[:, 3],
        product40=codes[:, 4],
        quantity=amounts[:, 0],
        spend=amounts[:, 1],
    )


class _Level(NamedTuple):
    counts: np.ndarray  # [codes, 3]
    totals: np.ndarray  # [codes]


class BasketFeatures:
    """The feature function with its fitted statistics (a `feature-statistics.json` document)."""

    def __init__(self, statistics: Mapping[str, Any]) -> None:
        if statistics.get("formatVersion") != 2:
            raise ValueError(f"feature statistics formatVersion {statistics.get('formatVersion')!r}, expected 2")
        self.prior = np.asarray(statistics["prior"], dtype=np.float64)
        self.log_prior = np.log(np.maximum(self.prior, 1e-9))
        self.smoothing = float(statistics["smoothing"])
        self.levels: dict[str, _Level] = {}
        for level in _LEVELS:
            counts = np.asarray(statistics["classCounts"][level], dtype=np.float64).reshape(-1, 3)
            self.levels[level] = _Level(counts, counts[:, 0] + counts[:, 1] + counts[:, 2])
        self.product_price = _mean_prices(statistics["priceSums"]["product"], statistics["priceCounts"]["product"])
        self.product10_price = _mean_prices(statistics["priceSums"]["product10"], statistics["priceCounts"]["product10"])
        stores = self.levels["store"]
        self.store_shares, _ = self._smooth(stores, np.arange(len(stores.counts)), np.broadcast_to(self.prior, stores.counts.shape))
        # inferred price tiers (core/features/price-tiers.ts): dense by product number, as the TypeScript reads them
        tiers = statistics["priceTiers"]
        products = np.asarray(tiers["products"], dtype=np.int64)
        size = int(products[-1]) + 1 if len(products) else 1
        self.product_tier = np.full(size, -1, dtype=np.int64)
        self.product_tier[products] = np.asarray(tiers["productTiers"], dtype=np.int64)
        self.product_agreement = np.zeros((size, 3))
        self.product_agreement[products] = np.asarray(tiers["productAgreement"], dtype=np.float64).reshape(-1, 3)
        self.lower_threshold = float(tiers["lowerThreshold"])
        self.upper_threshold = float(tiers["upperThreshold"])
        self.confident_margin = float(tiers["confidentMargin"])
        self.sharpness = float(tiers["sharpness"])
        self.tier_prior = np.asarray(tiers["tierPrior"], dtype=np.float64)
        self.tier_levels: dict[str, _Level] = {}
        for level in _TIER_LEVELS:
            counts = np.asarray(tiers["levelTierCounts"][level], dtype=np.float64).reshape(-1, 3)
            self.tier_levels[level] = _Level(counts, counts[:, 0] + counts[:, 1] + counts[:, 2])

    def _smooth(self, level: _Level, codes: np.ndarray, parent: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Class shares of each line's code, smoothed towards its parent's: (count_k + m·parent_k) / (n + m); whether seen."""
        valid = (codes >= 0) & (codes < len(level.counts))
        index = np.where(valid, codes, 0)
        totals = level.totals[index]
        shares = (level.counts[index] + self.smoothing * parent) / (totals + self.smoothing)[:, None]
        return np.where(valid[:, None], shares, parent), valid & (totals > 0)

    def compute(self, basket: EncodedBasket) -> np.ndarray:
        """The basket's FEATURE_COUNT features, float32. A basket has at least one line (the schema says so)."""
        line_count = len(basket.product)
        quantity, spend_by_line = basket.quantity, basket.spend
        items = float(quantity.sum())
        spend = float(spend_by_line.sum())
        division = basket.product40
        in_division = (division >= 1) & (division <= DIVISIONS)
        division_spend = np.bincount(division[in_division] - 1, weights=spend_by_line[in_division], minlength=DIVISIONS)

        # class shares down the product tree: division → group → department → class → product
        prior = np.broadcast_to(self.prior, (line_count, 3))
        shares40, _ = self._smooth(self.levels["product40"], division, prior)
        shares30, _ = self._smooth(self.levels["product30"], basket.product30, shares40)
        shares20, _ = self._smooth(self.levels["product20"], basket.product20, shares30)
        shares10, _ = self._smooth(self.levels["product10"], basket.product10, shares20)
        shares, known = self._smooth(self.levels["product"], basket.product, shares10)
        log_ratio = (np.log(np.maximum(shares, 1e-9)) - self.log_prior).sum(axis=0)
        tier = shares[:, 1] + 2 * shares[:, 2]

        # the label rule (UM when more up-market than less-affluent lines, LA when fewer, MM on a tie)
        # over uncertain line tiers: the distribution of #UM − #LA, index = difference + lines
        likely = shares / self.prior
        likely /= likely.sum(axis=1, keepdims=True)
        rule = np.ones(1)
        for line in likely:
            rule = np.convolve(rule, line)

        # price position: the line's unit price against its class's mean unit price
        class_price = _lookup(self.product10_price, basket.product10)
        priced = (quantity > 0) & (class_price > 0)
        known_price = _lookup(self.product_price, basket.product)
        unit_price = np.divide(spend_by_line, quantity, out=np.zeros(line_count), where=quantity > 0)
        product_price = np.where(known_price > 0, known_price, unit_price)[priced]
        price_index = np.log(np.maximum(product_price, 1e-3) / class_price[priced])
        priced_spend = float(spend_by_line[priced].sum())

        # price tiers: per line as counted (one-hot when confident, nothing when undetermined) and as
        # probabilities (softmax of the agreement counts); both the category's tier shares when unseen
        valid = (basket.product >= 0) & (basket.product < len(self.product_tier))
        fitted = np.where(valid, self.product_tier[np.where(valid, basket.product, 0)], -1)
        seen = fitted >= 0
        agreement = self.product_agreement[np.where(seen, basket.product, 0)]
        best = np.take_along_axis(agreement, np.where(seen, fitted, 0)[:, None], axis=1)[:, 0]
        others = np.where(np.arange(3)[None, :] == np.where(seen, fitted, 0)[:, None], -np.inf, agreement).max(axis=1)
        confident = seen & (np.maximum(best - others, 0) >= self.confident_margin)
        tier_prior = np.broadcast_to(self.tier_prior, (line_count, 3))
        tiers40, _ = self._smooth(self.tier_levels["product40"], division, tier_prior)
        tiers30, _ = self._smooth(self.tier_levels["product30"], basket.product30, tiers40)
        tiers20, _ = self._smooth(self.tier_levels["product20"], basket.product20, tiers30)
        fallback, _ = self._smooth(self.tier_levels["product10"], basket.product10, tiers20)
        one_hot = np.eye(3)[np.where(seen, fitted, 0)]
        counted = np.where(confident[:, None], one_hot, np.where(seen[:, None], 0.0, fallback))
        softmax = np.exp(self.sharpness * (agreement - agreement.max(axis=1, keepdims=True)))
        probability = np.where(seen[:, None], softmax / softmax.sum(axis=1, keepdims=True), fallback)
        tier_rule = np.ones(1)
        for line in probability:
            tier_rule = np.convolve(tier_rule, line)

        lines = max(line_count, 1)
        spend_weight = spend if spend > 0 else 1.0
        tier_mean = float(tier.sum()) / lines
        scores = self.log_prior + log_ratio
        posterior = np.exp(scores - scores.max())
        store = basket.store
        store_shares = self.store_shares[store] if 0 <= store < len(self.store_shares) else self.prior
        return np.concatenate(
            (
                (
                    line_count,
                    items,
                    np.log1p(max(spend, 0.0)),
                    spend / items if items > 0 else 0.0,
                    len(np.unique(basket.product10)),
                    len(np.unique(basket.product20)),
                    items <= 2,
                    2 < items <= 9,
                    items > 9,
                ),
                _one_hot(basket.basket_type, len(BASKET_TYPES)),
                _one_hot(basket.mission, len(BASKET_MISSIONS)),
                _one_hot(basket.store_format, len(STORE_FORMATS)),
                _one_hot(basket.store_region, len(STORE_REGIONS)),
                (basket.weekday, basket.weekday in (1, 7), basket.hour),
                division_spend / spend if spend > 0 else np.zeros(DIVISIONS),
                shares.sum(axis=0) / lines,
                (shares * spend_by_line[:, None]).sum(axis=0) / spend_weight if spend > 0 else self.prior,
                shares.min(axis=0),
                shares.max(axis=0),
                log_ratio,
                posterior / posterior.sum(),
                shares10.sum(axis=0) / lines,
                shares20.sum(axis=0) / lines,
                store_shares,
                (rule[:line_count].sum(), rule[line_count], rule[line_count + 1 :].sum()),
                ((likely[:, 2] - likely[:, 0]).sum(),),
                (
                    price_index.mean() if len(price_index) else 0.0,
                    (price_index * spend_by_line[priced]).sum() / priced_spend if priced_spend > 0 else 0.0,
                    price_index.min() if len(price_index) else 0.0,
                    price_index.max() if len(price_index) else 0.0,
                ),
                (
                    tier_mean,
                    float((tier * spend_by_line).sum()) / spend_weight if spend > 0 else tier_mean,
                    np.sqrt(max(float((tier * tier).sum()) / lines - tier_mean * tier_mean, 0.0)),
                    (line_count - int(known.sum())) / lines,
                ),
                self._tier_features(counted, confident, tier_rule, line_count, lines),
            ),
            dtype=np.float64,
        ).astype(np.float32)


    def _tier_features(self, counted: np.ndarray, confident: np.ndarray, tier_rule: np.ndarray, line_count: int, lines: int) -> np.ndarray:
        """Tier counts and shares, the rule's score, margins and range, confident lines, the rule's label probabilities."""
        counts = counted.sum(axis=0)
        score = (counts[2] - counts[0]) / lines
        confident_lines = int(confident.sum())
        confident_difference = float((counted[confident, 2] - counted[confident, 0]).sum())
        uncertain = line_count - confident_lines
        scores = (np.arange(len(tier_rule)) - line_count) / lines
        below = scores < self.lower_threshold
        above = scores > self.upper_threshold
        return np.concatenate(
            (
                counts,
                counts / lines,
                (score, score - self.lower_threshold, score - self.upper_threshold, confident_lines, confident_lines / lines),
                ((confident_difference - uncertain) / lines - self.upper_threshold, (confident_difference + uncertain) / lines - self.lower_threshold),
                (tier_rule[below].sum(), tier_rule[~below & ~above].sum(), tier_rule[above].sum()),
            )
        )


def _mean_prices(sums: Sequence[float], counts: Sequence[float]) -> np.ndarray:
    sums_array, counts_array = np.asarray(sums, dtype=np.float64), np.asarray(counts, dtype=np.float64)
    return np.divide(sums_array, counts_array, out=np.zeros_like(sums_array), where=counts_array > 0)


def _lookup(values: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """values[code], 0 for a code outside the table."""
    valid = (codes >= 0) & (codes < len(values))
    return np.where(valid, values[np.where(valid, codes, 0)], 0.0)


def _one_hot(code: int, width: int) -> np.ndarray:
    out = np.zeros(width)
    if 1 <= code <= width:
        out[code - 1] = 1
    return out


def main(statistics_file: str, baskets_file: str, out_file: str) -> None:
    from schemas import Basket  # the service's request schema (bench/fastapi/schemas.py)

    with open(statistics_file, encoding="utf-8") as file:
        features = BasketFeatures(json.load(file))
    with open(baskets_file, encoding="utf-8") as file:
        baskets = [Basket.parse_obj(body) for body in json.load(file)]
    rows = [features.compute(encode_basket(basket.context, basket.lines)) for basket in baskets]
    np.stack(rows).astype("<f4").tofile(out_file)


if __name__ == "__main__":
    main(*sys.argv[1:4])
