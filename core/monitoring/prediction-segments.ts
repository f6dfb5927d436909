/**
 * The shipped prediction log: gzip-compressed JSON-lines segments in the lake's object storage,
 *
 *   <lake>/predictions/date=YYYY-MM-DD/predictions-<opened YYYYMMDDTHHMMSSZ>-<instance>-<sequence>.jsonl.gz
 *
 * The name is fixed when the segment is opened and never reused (the instance is unique per server
 * process), so an upload retried after a lost answer writes the same object again: a record is never
 * stored twice. The day is the segment's opening day (UTC).
 *
 * A segment's first line is a header naming the model, the feature spec and the columns; every other
 * line is one prediction as a JSON array in that column order:
 *
 *   {"format":"retail-mlops/predictions@2","instance":"…","modelVersion":"v-…","featureSpecVersion":"1.0.0","classes":[…],"columns":[…]}
 *   [1763632800123,"3f1e…",0,994100100000020,1,[0.08,0.83,0.09],1,[0.5,1,0,…]]
 *
 * `rate` is the share of predictions the server kept when it had to sample (1 when it logged every
 * one): readers weigh a record by 1 / rate, so drift and live accuracy stay unbiased. A segment holds
 * one model version; a swap starts a new one. Writers (server/prediction-log) and readers
 * (prediction-log-reader.ts) share this module.
 */

/** The header's `format`. */
export const SEGMENT_FORMAT = 'retail-mlops/predictions@2';

/** The prefix below the lake's root. */
export const PREDICTIONS_PREFIX = 'predictions';

/** The columns of a record line, in order. */
export const SEGMENT_COLUMNS = ['time', 'requestId', 'index', 'basketId', 'label', 'probabilities', 'rate', 'features'] as const;

export interface SegmentHeader {
  readonly format: typeof SEGMENT_FORMAT;
  readonly instance: string;
  readonly modelVersion: string;
  readonly featureSpecVersion: string;
  readonly classes: readonly string[];
  readonly columns: readonly string[];
}

/** One decoded prediction. */
export interface PredictionRecord {
  /** Epoch milliseconds of the inference run. */
  readonly time: number;
  readonly requestId: string;
  /** Position of the basket in its request (0 for single predictions). */
  readonly index: number;
  /** The basket's BASKET_ID when the client sent one (joins labels that arrive later). */
  readonly basketId: number | null;
  /** Class index into the header's classes. */
  readonly label: number;
  readonly probabilities: readonly number[];
  /** The share of predictions kept when this one was logged (1: all). */
  readonly rate: number;
  /** The feature vector in the feature spec's order, rounded to 6 decimals. */
  readonly features: readonly number[];
}

/** How the log writes a value (6 decimals); readers of references round the same way. */
export const round6 = (value: number): number => Math.round(value * 1e6) / 1e6;

const SEGMENT_NAME = /^predictions-(\d{8}T\d{6}Z)-([A-Za-z0-9._-]{1,64})-(\d{6})\.jsonl\.gz$/;

/** The stamp of a time in segment names: `20261120T100000Z`. */
export function segmentStamp(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
}

/** The file name of a segment. */
export function segmentName(openedAt: number, instance: string, sequence: number): string {
  return `predictions-${segmentStamp(openedAt)}-${instance}-${String(sequence).padStart(6, '0')}.jsonl.gz`;
}

/** The day partition of a time: `date=2026-11-20`. */
export function dayPartition(epochMs: number): string {
  return `date=${new Date(epochMs).toISOString().slice(0, 10)}`;
}

/** The object key of a segment below `prefix` (no leading or trailing '/'; '' for the root). */
export function segmentKey(prefix: string, name: string): string {
  const parsed = parseSegmentName(name);
  if (!parsed) throw new Error(`'${name}' is not a prediction-log segment name`);
  return [prefix, dayPartition(parsed.openedAt), name].filter((part) => part.length > 0).join('/');
}

/** The parts of a segment name, or undefined for any other name. */
export function parseSegmentName(name: string): { readonly openedAt: number; readonly instance: string; readonly sequence: number } | undefined {
  const match = SEGMENT_NAME.exec(name);
  if (!match) return undefined;
  const stamp = match[1];
  const openedAt = Date.UTC(+stamp.slice(0, 4), +stamp.slice(4, 6) - 1, +stamp.slice(6, 8), +stamp.slice(9, 11), +stamp.slice(11, 13), +stamp.slice(13, 15));
  return { openedAt, instance: match[2], sequence: Number(match[3]) };
}

/** The header line (with its newline). */
export function encodeSegmentHeader(header: Omit<SegmentHeader, 'format' | 'columns'>): string {
  const full: SegmentHeader = { format: SEGMENT_FORMAT, ...header, columns: SEGMENT_COLUMNS };
  return `${JSON.stringify(full)}\n`;
}

/** Parses a segment's text: its header and records. Lines that are not whole JSON (a torn last line) are counted, not thrown. */
export function decodeSegment(text: string): { readonly header: SegmentHeader; readonly records: PredictionRecord[]; readonly badLines: number } {
  const lines = text.split('\n');
  let header: SegmentHeader | undefined;
  try {
    header = JSON.parse(lines[0]) as SegmentHeader;
  } catch {
    header = undefined;
  }
  if (!header || header.format !== SEGMENT_FORMAT) throw new Error(`not a ${SEGMENT_FORMAT} segment (first line: ${lines[0].slice(0, 80)})`);
  const records: PredictionRecord[] = [];
  let badLines = 0;
  for (let index = 1; index < lines.length; index++) {
    const line = lines[index];
    if (line.length === 0) continue;
    let tuple: unknown;
    try {
      tuple = JSON.parse(line);
    } catch {
      badLines += 1;
      continue;
    }
    if (!Array.isArray(tuple) || tuple.length !== SEGMENT_COLUMNS.length) {
      badLines += 1;
      continue;
    }
    const [time, requestId, position, basketId, label, probabilities, rate, features] = tuple as [number, string, number, number | null, number, number[], number, number[]];
    records.push({ time, requestId, index: position, basketId, label, probabilities, rate, features });
  }
  return { header, records, badLines };
}

/** The predictions of one inference run, in columns (the server's batch). */
export interface PredictionColumns {
  /** Epoch milliseconds. */
  readonly time: number;
  /** One per request, in row order, with how many rows each has. */
  readonly requestIds: readonly string[];
  readonly rowsPerRequest: ArrayLike<number>;
  /** Position of each row in its request; when absent, rows are numbered 0… within each request. */
  readonly indexes?: ArrayLike<number>;
  readonly featureCount: number;
  /** rows × featureCount, row-major. */
  readonly features: ArrayLike<number>;
  /** rows × classCount. */
  readonly probabilities: ArrayLike<number>;
  readonly classCount: number;
  readonly labels: ArrayLike<number>;
  /** NaN where no basket id was sent. */
  readonly basketIds?: ArrayLike<number>;
  /** The share kept (1, ½, …). */
  readonly rate: number;
}

/**
 * Writes record lines as bytes: numbers as fixed-point decimals with at most six fraction digits
 * (the text `String(round6(value))` gives for the values features take, without its cost: formatting
 * a double's shortest form is most of a record's price), everything else as JSON.
 */
class RecordEncoder {
  private bytes = Buffer.allocUnsafe(1 << 16);
  private length = 0;

  text(): string {
    return this.bytes.toString('latin1', 0, this.length);
  }

  private ensure(extra: number): void {
    if (this.length + extra <= this.bytes.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.bytes.length * 2, this.length + extra));
    this.bytes.copy(grown, 0, 0, this.length);
    this.bytes = grown;
  }

  byte(value: number): void {
    this.ensure(1);
    this.bytes[this.length++] = value;
  }

  /** ASCII text as it is (JSON already: numbers, quoted and escaped strings). */
  ascii(text: string): void {
    this.ensure(text.length);
    this.length += this.bytes.write(text, this.length, 'latin1');
  }

  /** A non-negative safe integer. */
  private digits(value: number): void {
    if (value < 10) {
      this.bytes[this.length++] = 48 + value;
      return;
    }
    const start = this.length;
    while (value > 0) {
      this.bytes[this.length++] = 48 + (value % 10);
      value = Math.floor(value / 10);
    }
    this.bytes.subarray(start, this.length).reverse();
  }

  /** A number rounded to 6 decimals, written as JSON (`-0.5`, `12`, `0.000001`; non-finite → null). */
  decimal(value: number): void {
    this.ensure(40);
    const scaled = Math.round(value * 1e6);
    if (!Number.isFinite(scaled) || Math.abs(scaled) >= Number.MAX_SAFE_INTEGER) {
      this.ascii(Number.isFinite(value) ? String(round6(value)) : 'null');
      return;
    }
    const magnitude = Math.abs(scaled);
    if (scaled < 0) this.bytes[this.length++] = 45; // '-'
    const whole = Math.floor(magnitude / 1e6);
    let fraction = magnitude - whole * 1e6;
    this.digits(whole);
    if (fraction === 0) return;
    this.bytes[this.length++] = 46; // '.'
    let places = 6;
    while (fraction % 10 === 0) {
      fraction /= 10;
      places -= 1;
    }
    for (let place = places - 1; place >= 0; place--) {
      this.bytes[this.length + place] = 48 + (fraction % 10);
      fraction = Math.floor(fraction / 10);
    }
    this.length += places;
  }
}

/** The record lines of a run (each with its newline), in row order. */
export function encodeRecords(columns: PredictionColumns): string {
  const { featureCount, classCount, features, probabilities, labels, basketIds, indexes } = columns;
  const out = new RecordEncoder();
  const prefix = `[${columns.time},`;
  const rate = `,${columns.rate},[`;
  let row = 0;
  for (let request = 0; request < columns.requestIds.length; request++) {
    // JSON, and ASCII only (the encoder writes bytes as they are)
    const requestId = `${JSON.stringify(columns.requestIds[request]).replace(/[\u007f-\uffff]/g, (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`)},`;
    for (let position = 0; position < columns.rowsPerRequest[request]; position++, row++) {
      out.ascii(prefix);
      out.ascii(requestId);
      out.ascii(String(indexes ? indexes[row] : position));
      out.byte(44);
      out.ascii(basketIds && !Number.isNaN(basketIds[row]) ? String(basketIds[row]) : 'null');
      out.byte(44);
      out.ascii(String(labels[row]));
      out.ascii(',[');
      for (let k = 0; k < classCount; k++) {
        if (k > 0) out.byte(44);
        out.decimal(probabilities[row * classCount + k]);
      }
      out.byte(93);
      out.ascii(rate);
      const offset = row * featureCount;
      for (let feature = 0; feature < featureCount; feature++) {
        if (feature > 0) out.byte(44);
        out.decimal(features[offset + feature]);
      }
      out.ascii(']]\n');
    }
  }
  return out.text();
}
