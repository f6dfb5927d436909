/**
 * The training channels SageMaker's built-in XGBoost reads: one file per channel, label first.
 *
 * - `csv` (text/csv): `label,f0,f1,…`, no header. Every value is written, zeros included.
 * - `libsvm` (text/libsvm): `label 0:f0 1:f1 …`, 0-based indices. Every feature is written,
 *   zeros included: XGBoost reads an absent libsvm entry as *missing*, not 0, which would change
 *   the model (the trees would learn default directions for values that are really zeros).
 *
 * Values are float32 and written with the fewest digits that read back as the same float32, so
 * XGBoost trains on exactly the matrix the features computed.
 */
import { once } from 'node:events';
import { createWriteStream, promises as fs } from 'node:fs';
import * as path from 'node:path';

export type ChannelFormat = 'csv' | 'libsvm';

export const CHANNEL_CONTENT_TYPES: Readonly<Record<ChannelFormat, string>> = { csv: 'text/csv', libsvm: 'text/libsvm' };

/** The shortest decimal text that parses back to the same float32. */
export function float32Text(value: number): string {
  if (Number.isInteger(value) && Math.abs(value) < 1e15) return String(value);
  for (let digits = 6; digits < 9; digits++) {
    const text = value.toPrecision(digits);
    if (Math.fround(Number(text)) === value) return String(Number(text));
  }
  return String(Number(value.toPrecision(9)));
}

/** Writes rows (row-major float32 `values`, class-index `labels`) as a channel file. Returns its size. */
export async function writeChannelFile(
  file: string,
  values: Float32Array,
  labels: Int32Array,
  columns: number,
  format: ChannelFormat,
): Promise<number> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const stream = createWriteStream(file);
  const closed = once(stream, 'close');
  try {
    let buffer = '';
    for (let row = 0; row < labels.length; row++) {
      const offset = row * columns;
      const cells: string[] = [String(labels[row])];
      for (let column = 0; column < columns; column++) {
        const text = float32Text(values[offset + column]);
        cells.push(format === 'csv' ? text : `${column}:${text}`);
      }
      buffer += `${cells.join(format === 'csv' ? ',' : ' ')}\n`;
      if (buffer.length >= 1 << 20) {
        if (!stream.write(buffer)) await once(stream, 'drain');
        buffer = '';
      }
    }
    stream.end(buffer);
    await closed;
  } catch (error) {
    stream.destroy();
    throw error;
  }
  return (await fs.stat(file)).size;
}
