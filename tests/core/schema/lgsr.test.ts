import { describe, expect, it } from 'vitest';
import {
  basketSizeFor,
  columnsFor,
  detectHeaderVariant,
  fiscalWeekOf,
  fiscalWeekStart,
  parseShopDate,
  shopWeekdayOf,
  toShopDate,
} from '../../../core/schema/lgsr';

describe('LGSR calendar', () => {
  it('starts week 200607 on Monday 2006-04-10', () => {
    expect(toShopDate(fiscalWeekStart(200607))).toBe(20060410);
    expect(shopWeekdayOf(fiscalWeekStart(200607))).toBe(2); // 1 = Sunday, 2 = Monday
  });

  it('maps every day of a week back to that week (the real sample: 20060510 is in 200611, a Wednesday)', () => {
    const epoch = parseShopDate(20060510)!;
    expect(fiscalWeekOf(epoch)).toBe(200611);
    expect(shopWeekdayOf(epoch)).toBe(4);
    for (let day = 0; day < 7; day++) expect(fiscalWeekOf(fiscalWeekStart(200652) + day * 86_400_000)).toBe(200652);
    expect(fiscalWeekOf(fiscalWeekStart(200652) + 7 * 86_400_000)).toBe(200701);
  });

  it('rejects dates that are not on the calendar', () => {
    expect(parseShopDate(20060231)).toBeUndefined();
    expect(parseShopDate(20061301)).toBeUndefined();
    expect(parseShopDate(20080229)).toBeDefined();
  });
});

describe('LGSR header variants', () => {
  it('detects both variants and nothing else', () => {
    expect(detectHeaderVariant(columnsFor('lgsr').join(','))).toBe('lgsr');
    expect(detectHeaderVariant(`\uFEFF${columnsFor('seg').join(',')}\r`)).toBe('seg');
    expect(detectHeaderVariant(columnsFor('seg').slice(1).join(','))).toBeUndefined();
    expect(columnsFor('seg')).toContain('seg_1');
  });

  it('sizes baskets by item count', () => {
    expect([1, 2, 3, 9, 10, 141].map(basketSizeFor)).toEqual(['S', 'S', 'M', 'M', 'L', 'L']);
  });
});
