import { availableParallelism } from 'node:os';
import * as ort from 'onnxruntime-node';

/**
 * Scores rows with an ONNX model through ONNX Runtime (the same engine as the server), in chunks of
 * 64k rows with every core (batch scoring has the machine to itself; the server sets its own threads).
 * Returns rows × classes probabilities.
 */
export async function scoreWithOnnxRuntime(model: Uint8Array, values: Float32Array, rows: number, columns: number, chunkRows = 65_536): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(model, { intraOpNumThreads: availableParallelism(), interOpNumThreads: 1 });
  try {
    let output: Float32Array | undefined;
    let classes = 0;
    for (let start = 0; start < rows; start += chunkRows) {
      const count = Math.min(chunkRows, rows - start);
      const input = new ort.Tensor('float32', values.subarray(start * columns, (start + count) * columns), [count, columns]);
      const result = await session.run({ features: input }, ['probabilities']);
      const probabilities = result.probabilities.data as Float32Array;
      classes = probabilities.length / count;
      output ??= new Float32Array(rows * classes);
      output.set(probabilities, start * classes);
    }
    return output ?? new Float32Array(0);
  } finally {
    await session.release();
  }
}
