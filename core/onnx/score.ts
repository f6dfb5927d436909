import { availableParallelism } from 'node:os';
import { createRowScorer } from './row-scorer';

/**
 * Scores rows with an ONNX model through ONNX Runtime (the same engine as the server), in chunks of
 * 64k rows with every core (batch scoring has the machine to itself; the server sets its own threads).
 * Returns rows × classes probabilities.
 */
export async function scoreWithOnnxRuntime(model: Uint8Array, values: Float32Array, rows: number, columns: number, chunkRows = 65_536): Promise<Float32Array> {
  const scorer = await createRowScorer(model, columns, { engine: 'onnxruntime', threads: availableParallelism() });
  try {
    let output: Float32Array | undefined;
    for (let start = 0; start < rows; start += chunkRows) {
      const count = Math.min(chunkRows, rows - start);
      const probabilities = await scorer.score(values.subarray(start * columns, (start + count) * columns), count);
      output ??= new Float32Array(rows * (probabilities.length / count));
      output.set(probabilities, (start * probabilities.length) / count);
    }
    return output ?? new Float32Array(0);
  } finally {
    await scorer.release();
  }
}
