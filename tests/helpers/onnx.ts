import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { exportOnnx } from '../../core/onnx/export';
import type { ModelIR } from '../../core/training/model';

/** A model exported to ONNX with placeholder metadata (feature_0 …), for the engine tests. */
export function testOnnxBytes(model: ModelIR): Uint8Array {
  return exportOnnx(model, {
    featureSpecVersion: '1',
    featureSpecHash: 'sha256:0f1e2d',
    featureNames: Array.from({ length: model.featureCount }, (_, index) => `feature_${index}`),
    algorithm: model.kind === 'linear' ? 'lr' : 'gbdt',
  });
}

/** Debian's python3-onnx (1.12); the `python3` on PATH may be another interpreter without it. */
export const SYSTEM_PYTHON = '/usr/bin/python3';

export interface OrtPredictions {
  readonly probabilities: Float32Array;
  readonly labels: Int32Array;
}

/** Runs an exported model in onnxruntime-node on a row-major float32 matrix (one intra-op thread: 2 shared cores). */
export async function runWithOnnxRuntime(bytes: Uint8Array, values: Float32Array, rows: number, columns: number): Promise<OrtPredictions> {
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  try {
    const output = await session.run({ features: new ort.Tensor('float32', values, [rows, columns]) });
    expectDims(output.probabilities, [rows, -1]);
    expectDims(output.label, [rows]);
    if (output.label.type !== 'int64') throw new Error(`label output is ${output.label.type}, expected int64`);
    const labels = Int32Array.from(output.label.data as BigInt64Array, (label) => Number(label));
    return { probabilities: output.probabilities.data as Float32Array, labels };
  } finally {
    await session.release();
  }
}

function expectDims(tensor: ort.Tensor, dims: readonly number[]): void {
  const ok = tensor.dims.length === dims.length && dims.every((dim, index) => dim === -1 || tensor.dims[index] === dim);
  if (!ok) throw new Error(`output dims ${JSON.stringify(tensor.dims)}, expected ${JSON.stringify(dims)}`);
}

/** Whether the system Python can import onnx (the project's setup script installs python3-onnx). */
export function onnxCheckerAvailable(): boolean {
  return spawnSync(SYSTEM_PYTHON, ['-c', 'import onnx'], { stdio: 'ignore' }).status === 0;
}

const CHECK_SCRIPT = `
import sys, onnx
failures = 0
for path in sys.argv[1:]:
    try:
        onnx.checker.check_model(onnx.load(path), full_check=True)
        print("ok", path)
    except Exception as error:
        failures += 1
        print("FAILED", path, type(error).__name__, error)
sys.exit(1 if failures else 0)
`;

/**
 * Runs `onnx.checker.check_model(..., full_check=True)` (structure, opsets, strict shape inference) on
 * each model in one Python process; returns the checker's exit status and report.
 */
export function checkWithOnnxChecker(models: Readonly<Record<string, Uint8Array>>): { readonly status: number | null; readonly report: string } {
  const directory = mkdtempSync(join(tmpdir(), 'retail-mlops-onnx-'));
  try {
    const paths = Object.entries(models).map(([name, bytes]) => {
      const path = join(directory, `${name}.onnx`);
      writeFileSync(path, bytes);
      return path;
    });
    const result = spawnSync(SYSTEM_PYTHON, ['-c', CHECK_SCRIPT, ...paths], { encoding: 'utf8', timeout: 60_000 });
    return { status: result.status, report: `${result.stdout}${result.stderr}` };
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

/** Largest absolute elementwise difference. */
export function maxAbsDifference(left: Float32Array, right: Float32Array): number {
  if (left.length !== right.length) throw new Error(`lengths differ: ${left.length} vs ${right.length}`);
  let max = 0;
  for (let index = 0; index < left.length; index++) max = Math.max(max, Math.abs(left[index] - right[index]));
  return max;
}
