/**
 * The workers' fast body path (server/inference/fast-body.ts) against the general one (TextDecoder,
 * JSON.parse, the zod schemas, basketBatchFromBaskets): on valid bodies, thousands of mutations and
 * JSON spellings of the same values, the fast path either declines or gives exactly the batch the
 * general path gives, and only for bodies the general path accepts. On the bodies clients really send
 * it never declines, so it is the path that runs.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { mutations } from './basket-mutations';
import { basketBatchFromBaskets, type BasketBatch } from '../../core/features/basket-batch';
import type { Basket } from '../../core/schema/lgsr';
import { BodyReader, parseBody } from '../../server/inference/fast-body';
import type { BodyShape } from '../../server/inference/protocol';
import { basketSchema, batchRequestSchema, type RequestLimits } from '../../server/schemas';
import { servedModelFixture } from '../helpers/served-model';

const LIMITS: RequestLimits = { maxLinesPerBasket: 6, maxBasketsPerBatch: 4 };
const encoder = new TextEncoder();

/** The general path's batch, or undefined when it refuses the body. */
function generalPath(shape: BodyShape, text: string, limits: RequestLimits): BasketBatch | undefined {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(encoder.encode(text)));
  } catch {
    return undefined;
  }
  if (shape === 'basket') {
    const parsed = basketSchema(limits).safeParse(value);
    return parsed.success ? basketBatchFromBaskets([parsed.data]) : undefined;
  }
  const parsed = batchRequestSchema(limits).safeParse(value);
  return parsed.success ? basketBatchFromBaskets(parsed.data.baskets) : undefined;
}

/** Plain arrays of a batch's columns, for a deep comparison that ignores spare capacity. */
function columns(batch: BasketBatch): Record<string, unknown> {
  return Object.fromEntries(Object.entries(batch).map(([key, value]) => [key, typeof value === 'number' ? value : Array.from(value as ArrayLike<number>)]));
}

/** Checks one body both ways; returns whether the fast path took it. */
function agree(shape: BodyShape, text: string, limits = LIMITS): boolean {
  const fast = parseBody(shape, encoder.encode(text), limits);
  const general = generalPath(shape, text, limits);
  if (fast === undefined) return false;
  expect(general, `the fast path accepted what the general path refuses: ${text}`).toBeDefined();
  expect(columns(fast), text).toEqual(columns(general!));
  // -0 and 0 are equal to toEqual on plain numbers; compare the bits too
  const bits = (values: Float32Array): Buffer => Buffer.from(values.buffer, values.byteOffset, values.byteLength);
  expect(bits(fast.spend)).toEqual(bits(general!.spend));
  return true;
}

describe('the fast body path agrees with JSON.parse + zod', () => {
  let baskets: readonly Basket[];
  beforeAll(async () => {
    const fixture = await servedModelFixture();
    baskets = fixture.baskets;
    fixture.remove();
  });

  it('takes every real basket and batch, as single baskets and as batches of 100', () => {
    const limits: RequestLimits = { maxLinesPerBasket: 200, maxBasketsPerBatch: 10_000 };
    for (const basket of baskets) expect(agree('basket', JSON.stringify(basket), limits)).toBe(true);
    for (let start = 0; start < baskets.length; start += 100) expect(agree('batch', JSON.stringify({ baskets: baskets.slice(start, start + 100) }), limits)).toBe(true);
  });

  it('on thousands of mutations of the fields, shapes and limits', () => {
    const candidates = baskets
      .filter((basket) => basket.lines.length <= LIMITS.maxLinesPerBasket)
      .slice(0, 20)
      .flatMap(mutations);
    let taken = 0;
    for (const candidate of candidates) {
      const text = JSON.stringify(candidate) ?? 'undefined';
      if (agree('basket', text)) taken += 1;
      agree('batch', JSON.stringify({ baskets: [candidate] }) ?? '');
    }
    expect(candidates.length).toBeGreaterThan(5000);
    expect(taken).toBeGreaterThan(100);
  });

  it('on other spellings of the same JSON: whitespace, key order, number forms, escapes, duplicates', () => {
    const basket = baskets.find((candidate) => candidate.lines.length >= 2 && candidate.lines.length <= LIMITS.maxLinesPerBasket)!;
    const text = JSON.stringify(basket);
    const line = basket.lines[0];
    const lineText = JSON.stringify(line);
    const withLine = (replacement: string): string => text.replace(lineText, replacement);
    const spellings: Array<[string, boolean]> = [
      // taken by the fast path
      [` \n\t${text.replace(/,/g, ' ,\r\n ').replace(/:/g, ' : ')}\n `, true],
      [JSON.stringify({ lines: basket.lines, context: basket.context }), true],
      [withLine(JSON.stringify(Object.fromEntries(Object.entries(line).reverse()))), true],
      [withLine(lineText.replace(/"QUANTITY":\d+/, '"QUANTITY":2.0')), true],
      [withLine(lineText.replace(/"QUANTITY":\d+/, '"QUANTITY":2e0')), true],
      [withLine(lineText.replace(/"QUANTITY":\d+/, '"QUANTITY":0.2E+1')), true],
      [withLine(lineText.replace(/"SPEND":[\d.e+-]+/, '"SPEND":-0')), true],
      [withLine(lineText.replace(/"SPEND":[\d.e+-]+/, '"SPEND":0.1')), true],
      [withLine(lineText.replace(/"SPEND":[\d.e+-]+/, '"SPEND":123456.789012')), true],
      [withLine(lineText.replace(/"SPEND":[\d.e+-]+/, '"SPEND":1e-7')), true],
      [withLine(lineText.replace(/"SPEND":[\d.e+-]+/, '"SPEND":1000000000')), true],
      // declined: the general path decides
      [withLine(lineText.replace(/"SPEND":[\d.e+-]+/, '"SPEND":0.1000000000000000055511151231257827')), false],
      // a significand just past 2^53 is no longer exact
      [withLine(lineText.replace(/"SPEND":[\d.e+-]+/, '"SPEND":0.9007199254740993')), false],
      [withLine(lineText.replace(/"SPEND":[\d.e+-]+/, '"SPEND":1e-400')), false],
      [withLine(lineText.replace(/"SPEND":[\d.e+-]+/, '"SPEND":1e999')), false],
      [withLine(lineText.replace(/"SPEND":[\d.e+-]+/, '"SPEND":01.5')), false],
      [withLine(lineText.replace(/"SPEND":[\d.e+-]+/, '"SPEND":1.')), false],
      [withLine(lineText.replace(/"SPEND":[\d.e+-]+/, '"SPEND":.5')), false],
      [withLine(lineText.replace(/"SPEND":[\d.e+-]+/, '"SPEND":+1')), false],
      [withLine(lineText.replace('"PROD_CODE"', '"PROD\\u005fCODE"')), false],
      [withLine(lineText.replace(/"PRD(\d)/, '"\\u0050RD$1')), false],
      [withLine(lineText.replace('{', '{"QUANTITY":3,')), false],
      [text.replace('{"context"', '{"context":{},"context"'), false],
      [`\uFEFF${text}`, false],
      [`${text} x`, false],
      [`${text},`, false],
      [text.slice(0, -1), false],
      [text.replace(/,/, ',,'), false],
      [text.replace(/\]\}$/, ',]}'), false],
      // a non-ASCII string (whatever store format the basket has)
      [text.replace(/"STORE_FORMAT":"[^"]*"/, '"STORE_FORMAT":"L\u00e9"'), false],
    ];
    for (const [spelling, taken] of spellings) {
      // a spelling that failed to change the basket (its pattern not found) would test nothing
      if (!taken) expect(spelling, 'a declined spelling must differ from the plain body').not.toBe(text);
      expect(agree('basket', spelling), spelling).toBe(taken);
    }
  });

  it('takes the optional BASKET_ID (the prediction log joins labels by it) and carries it exactly', () => {
    // a basket the fast path takes as it is, then with its id
    const plain = baskets.find((candidate) => parseBody('basket', encoder.encode(JSON.stringify(candidate)), LIMITS) !== undefined)!;
    const basket = { ...plain, context: { ...plain.context, BASKET_ID: '994100100398294' } };
    expect(agree('basket', JSON.stringify(basket))).toBe(true);
    const batch = parseBody('batch', encoder.encode(JSON.stringify({ baskets: [basket, plain] })), LIMITS)!;
    expect(Array.from(batch.basketId)).toEqual([994100100398294, Number.NaN]);
    // a worker's reader is reused from body to body: a body without an id never inherits the last body's
    const reader = new BodyReader(LIMITS);
    expect(reader.read('basket', encoder.encode(JSON.stringify(basket)))).toBe(1);
    expect(reader.batch.basketId[0]).toBe(994100100398294);
    expect(reader.read('basket', encoder.encode(JSON.stringify(plain)))).toBe(1);
    expect(reader.batch.basketId[0]).toBeNaN();
  });

  it('grows past its first guess of baskets and lines per byte', () => {
    const limits: RequestLimits = { maxLinesPerBasket: 200, maxBasketsPerBatch: 10_000 };
    const small = { context: baskets[0].context, lines: [baskets[0].lines[0]] };
    // compact bodies: more baskets and lines per byte than the parser first allocates for
    expect(agree('batch', JSON.stringify({ baskets: Array.from({ length: 3000 }, () => small) }), limits)).toBe(true);
    const many = { context: baskets[0].context, lines: Array.from({ length: 200 }, () => baskets[0].lines[0]) };
    expect(agree('batch', JSON.stringify({ baskets: [many, many, many] }), limits)).toBe(true);
  });
});
