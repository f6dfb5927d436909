import { once } from 'node:events';
import { createWriteStream, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { openDataSource } from './data-source';
import { loadModel } from './load-model';
import { tempSibling } from '../../core/data/atomic-file';
import { DuckDbSession, sqlString } from '../../core/data/duckdb';
import { readGoldBaskets } from '../../core/data/gold-reader';
import { FEATURE_COUNT } from '../../core/features/spec';
import { heldOutFeatures } from '../../core/features/training-matrix';
import { scoreWithOnnxRuntime } from '../../core/onnx/score';
import type { ProgressReporter } from '../../core/progress';
import type { ModelRegistry } from '../../core/registry/port';
import { PRICE_SENSITIVITY_CLASSES } from '../../core/schema/lgsr';

export interface PredictOptions {
  readonly registry: ModelRegistry;
  readonly model: string;
  readonly data: readonly string[];
  /** `.csv` or `.parquet`. */
  readonly out: string;
  readonly progress?: ProgressReporter;
}

export interface PredictSummary {
  readonly modelVersion: string;
  readonly out: string;
  readonly baskets: number;
  readonly labels: Readonly<Record<string, number>>;
  readonly seconds: number;
  readonly basketsPerSecond: number;
}

/** Batch scoring: every basket of the data → BASKET_ID, SHOP_WEEK, LABEL, P_LA, P_MM, P_UM, MODEL_VERSION. */
export async function predictBaskets(options: PredictOptions): Promise<PredictSummary> {
  const loaded = await loadModel(options.registry, options.model);
  const source = await openDataSource(options.data, options.progress);
  try {
    const started = performance.now();
    const { batch, basketIds } = await readGoldBaskets(source.lake);
    const rows = Int32Array.from({ length: batch.size }, (_, index) => index);
    const values = heldOutFeatures(loaded.statistics, batch, rows);
    const probabilities = await scoreWithOnnxRuntime(loaded.bytes, values, batch.size, FEATURE_COUNT);
    const labels: Record<string, number> = { LA: 0, MM: 0, UM: 0 };
    const csvFile = options.out.endsWith('.parquet') ? `${tempSibling(path.resolve(options.out))}.csv` : tempSibling(path.resolve(options.out));
    await fs.mkdir(path.dirname(path.resolve(options.out)), { recursive: true });
    const stream = createWriteStream(csvFile);
    stream.write('BASKET_ID,SHOP_WEEK,LABEL,P_LA,P_MM,P_UM,MODEL_VERSION\n');
    const chunk: string[] = [];
    for (let basket = 0; basket < batch.size; basket++) {
      const low = probabilities[basket * 3];
      const middle = probabilities[basket * 3 + 1];
      const high = probabilities[basket * 3 + 2];
      const label = PRICE_SENSITIVITY_CLASSES[low >= middle && low >= high ? 0 : middle >= high ? 1 : 2];
      labels[label] += 1;
      chunk.push(`${basketIds[basket]},${batch.week[basket]},${label},${low.toFixed(6)},${middle.toFixed(6)},${high.toFixed(6)},${loaded.version.id}`);
      if (chunk.length === 10_000 || basket === batch.size - 1) {
        if (!stream.write(`${chunk.join('\n')}\n`)) await once(stream, 'drain');
        chunk.length = 0;
      }
    }
    stream.end();
    await once(stream, 'finish');
    if (options.out.endsWith('.parquet')) {
      const session = await DuckDbSession.open();
      try {
        const target = tempSibling(path.resolve(options.out));
        await session.run(`COPY (SELECT * FROM read_csv(${sqlString(csvFile)}, header = true, types = {'BASKET_ID': 'BIGINT'})) TO ${sqlString(target)} (FORMAT parquet)`);
        await fs.rename(target, options.out);
      } finally {
        session.close();
        await fs.rm(csvFile, { force: true });
      }
    } else {
      await fs.rename(csvFile, options.out);
    }
    const seconds = (performance.now() - started) / 1000;
    return {
      modelVersion: loaded.version.id,
      out: path.resolve(options.out),
      baskets: batch.size,
      labels,
      seconds: Number(seconds.toFixed(3)),
      basketsPerSecond: Math.round(batch.size / seconds),
    };
  } finally {
    if (source.scratch) await fs.rm(source.lake.root, { recursive: true, force: true });
  }
}
