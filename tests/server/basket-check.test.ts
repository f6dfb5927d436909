/**
 * The workers' allocation-free basket check (server/inference/basket-check.ts) against the zod
 * schemas it stands in for: on thousands of valid and mutated bodies both give the same answer, and
 * where both accept, the features are the same (zod strips unknown keys; the features never read them).
 */
import { describe, expect, it } from 'vitest';
import { mutations } from './basket-mutations';
import { basketBatchFromBaskets } from '../../core/features/basket-batch';
import type { Basket } from '../../core/schema/lgsr';
import { isValidBasket, isValidBatch } from '../../server/inference/basket-check';
import { basketSchema, batchRequestSchema, type RequestLimits } from '../../server/schemas';
import { servedModelFixture } from '../helpers/served-model';

const LIMITS: RequestLimits = { maxLinesPerBasket: 6, maxBasketsPerBatch: 4 };

describe('the fast basket check agrees with the zod schemas', () => {
  it('on valid baskets and thousands of mutations of them', async () => {
    const fixture = await servedModelFixture();
    fixture.remove();
    const schema = basketSchema(LIMITS);
    const candidates = fixture.baskets
      .filter((basket) => basket.lines.length <= LIMITS.maxLinesPerBasket)
      .slice(0, 20)
      .flatMap(mutations);
    let accepted = 0;
    for (const candidate of candidates) {
      const zod = schema.safeParse(candidate);
      const fast = isValidBasket(candidate, LIMITS);
      expect(fast, JSON.stringify(candidate)).toBe(zod.success);
      if (fast && zod.success) {
        accepted += 1;
        const ours = basketBatchFromBaskets([candidate as Basket]);
        const theirs = basketBatchFromBaskets([zod.data]);
        expect(ours).toEqual(theirs);
      }
    }
    expect(candidates.length).toBeGreaterThan(5000);
    expect(accepted).toBeGreaterThan(100);
  });

  it('on batch bodies: sizes around the cap, one bad basket, wrong shapes', async () => {
    const fixture = await servedModelFixture();
    fixture.remove();
    const schema = batchRequestSchema(LIMITS);
    const valid = fixture.baskets.filter((basket) => basket.lines.length <= LIMITS.maxLinesPerBasket).slice(0, 5);
    const bad = { ...valid[0], lines: [] };
    const candidates: unknown[] = [
      null,
      [],
      {},
      { baskets: null },
      { baskets: {} },
      { baskets: valid[0] },
      ...[0, 1, 3, 4, 5].map((count) => ({ baskets: valid.slice(0, count) })),
      { baskets: [valid[0], bad] },
      { baskets: [valid[0], null] },
      { baskets: [[valid[0]]] },
      { baskets: valid.slice(0, 2), extra: true },
    ];
    for (const candidate of candidates) expect(isValidBatch(candidate, LIMITS), JSON.stringify(candidate)).toBe(schema.safeParse(candidate).success);
  });
});
