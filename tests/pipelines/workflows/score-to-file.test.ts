import { describe, expect, it } from 'vitest';
import { weekGroups } from '../../../pipelines/workflows/score-to-file';

describe('weekGroups: consecutive weeks in groups of near-equal baskets', () => {
  const weeks = [
    { week: 1, baskets: 10 },
    { week: 2, baskets: 10 },
    { week: 3, baskets: 40 },
    { week: 4, baskets: 20 },
    { week: 5, baskets: 20 },
  ];

  it('splits at the running share of the total and keeps every week once, in order', () => {
    expect(weekGroups(weeks, 2)).toEqual([[1, 2, 3], [4, 5]]);
    expect(weekGroups(weeks, 4)).toEqual([[1, 2], [3], [4], [5]]);
    expect(weekGroups(weeks, 1)).toEqual([[1, 2, 3, 4, 5]]);
  });

  it('never makes more groups than weeks, nor empty ones', () => {
    const groups = weekGroups(weeks.slice(0, 2), 8);
    expect(groups).toEqual([[1], [2]]);
    expect(weekGroups([], 2)).toEqual([]);
  });
});
