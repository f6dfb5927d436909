import { describe, expect, it } from 'vitest';
import { InvalidOptionsError, RetailMlopsError } from '../../../core/errors';
import { assertGatePassed, DEFAULT_GATE_OPTIONS, evaluateGate, GateFailedError, resolveGateOptions } from '../../../core/evaluation/gate';

function metrics(accuracy: number, macroF1: number, precision: Record<string, number>) {
  return {
    accuracy,
    macroF1,
    perClass: Object.fromEntries(Object.entries(precision).map(([name, value]) => [name, { precision: value, recall: 0.8, f1: 0.8, support: 10 }])),
  };
}

describe('evaluateGate', () => {
  it('passes a model above the default floor, without a champion', () => {
    const result = evaluateGate(metrics(0.9, 0.85, { LA: 0.8, MM: 0.9, UM: 0.7 }));
    expect(result.passed).toBe(true);
    expect(result.reasons).toEqual([]);
    expect(result.comparedWithChampion).toBe(false);
    expect(result.checks.map((check) => check.id)).toEqual([
      'accuracy-floor',
      'macro-f1-floor',
      'precision-floor:LA',
      'precision-floor:MM',
      'precision-floor:UM',
    ]);
    expect(result.options).toEqual({
      minimumAccuracy: 0.75,
      minimumMacroF1: 0.7,
      minimumClassPrecision: 0.65,
      championAccuracyTolerance: 0.01,
      championMacroF1Tolerance: 0.01,
    });
    expect(() => assertGatePassed(result)).not.toThrow();
  });

  it('reports every failing reason, not just the first', () => {
    const result = evaluateGate(metrics(0.7, 0.6, { LA: 0.5, MM: 0.9, UM: 0.6 }), { accuracy: 0.9, macroF1: 0.8 });
    expect(result.passed).toBe(false);
    expect(result.checks.filter((check) => !check.passed).map((check) => check.id)).toEqual([
      'accuracy-floor',
      'macro-f1-floor',
      'precision-floor:LA',
      'precision-floor:UM',
      'accuracy-vs-champion',
      'macro-f1-vs-champion',
    ]);
    expect(result.reasons).toEqual([
      'accuracy 0.7000 is below the floor 0.7500',
      'macro-F1 0.6000 is below the floor 0.7000',
      'precision of LA 0.5000 is below the floor 0.6500',
      'precision of UM 0.6000 is below the floor 0.6500',
      "accuracy 0.7000 is worse than the champion's 0.9000 by more than 0.0100",
      "macro-F1 0.6000 is worse than the champion's 0.8000 by more than 0.0100",
    ]);
  });

  it('accepts a candidate within the tolerance of the champion, exactly on the edge included', () => {
    const champion = { accuracy: 0.86, macroF1: 0.81 };
    const onTheEdge = evaluateGate(metrics(0.85, 0.8, { LA: 0.8, MM: 0.8, UM: 0.8 }), champion);
    expect(onTheEdge.passed).toBe(true);
    expect(onTheEdge.comparedWithChampion).toBe(true);
    const worse = evaluateGate(metrics(0.849, 0.8, { LA: 0.8, MM: 0.8, UM: 0.8 }), champion);
    expect(worse.passed).toBe(false);
    expect(worse.reasons).toHaveLength(1);
    expect(worse.reasons[0]).toMatch(/accuracy 0.8490 is worse than the champion's 0.8600/);
    const champion2 = evaluateGate(metrics(0.849, 0.8, { LA: 0.8, MM: 0.8, UM: 0.8 }), champion, { championAccuracyTolerance: 0.02 });
    expect(champion2.passed).toBe(true);
  });

  it('applies configured thresholds', () => {
    const candidate = metrics(0.9, 0.85, { LA: 0.8, MM: 0.9, UM: 0.7 });
    const result = evaluateGate(candidate, undefined, { minimumAccuracy: 0.95, minimumClassPrecision: 0.75 });
    expect(result.reasons).toEqual(['accuracy 0.9000 is below the floor 0.9500', 'precision of UM 0.7000 is below the floor 0.7500']);
  });
});

describe('gate options', () => {
  it('fills in the defaults', () => {
    expect(resolveGateOptions()).toEqual(DEFAULT_GATE_OPTIONS);
    expect(resolveGateOptions({ minimumMacroF1: 0.9 }).minimumMacroF1).toBe(0.9);
  });

  it('reports every invalid option at once', () => {
    let caught: unknown;
    try {
      resolveGateOptions({ minimumAccuracy: 1.5, minimumMacroF1: Number.NaN, championMacroF1Tolerance: -0.1, minimumRecall: 0.5 } as never);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InvalidOptionsError);
    const problems = (caught as InvalidOptionsError).problems;
    expect(problems).toHaveLength(4);
    expect(problems.join('\n')).toMatch(/minimumAccuracy must be a number between 0 and 1, got 1.5/);
    expect(problems.join('\n')).toMatch(/minimumMacroF1/);
    expect(problems.join('\n')).toMatch(/championMacroF1Tolerance/);
    expect(problems.join('\n')).toMatch(/unknown option 'minimumRecall'/);
  });
});

describe('GateFailedError', () => {
  it('carries the stable code and every reason', () => {
    const result = evaluateGate(metrics(0.5, 0.5, { LA: 0.5, MM: 0.5, UM: 0.5 }));
    let caught: unknown;
    try {
      assertGatePassed(result);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(GateFailedError);
    expect(RetailMlopsError.isInstance(caught)).toBe(true);
    const failure = caught as GateFailedError;
    expect(failure.code).toBe('GATE_FAILED');
    expect(failure.name).toBe('GateFailedError');
    expect(failure.reasons).toHaveLength(5);
    for (const reason of failure.reasons) expect(failure.message).toContain(reason);
  });
});
