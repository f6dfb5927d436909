import { DuckDBDoubleVector, DuckDBFloatVector, DuckDBIntegerVector, DuckDBSmallIntVector, DuckDBTinyIntVector, DuckDBUTinyIntVector, type DuckDBVector } from '@duckdb/node-api';

type NumericItems = Int8Array | Uint8Array | Int16Array | Int32Array | Float32Array | Float64Array;

/**
 * Copies `count` values of a numeric DuckDB vector, from `from`, into `target` at `at`.
 *
 * @duckdb/node-api wraps each fixed-width vector's memory in a typed array but only hands out one
 * value at a time (`getItem`, ≈ 30 ns a call); reading hundreds of thousands of baskets that way is
 * most of the read. For the numeric vector classes the typed array is used directly (one `set`),
 * after checking it is there, has the vector's type and covers the range; anything else falls back
 * to `getItem`. NULLs are not carried by a bulk copy: call this only for columns that cannot be NULL
 * (the SQL coalesces them, or the layer guarantees them).
 */
export function copyNumericColumn(vector: DuckDBVector, from: number, count: number, target: NumericItems, at: number): void {
  const items = numericItems(vector);
  if (items && from + count <= items.length) {
    target.set(items.subarray(from, from + count), at);
    return;
  }
  for (let index = 0; index < count; index++) target[at + index] = (vector.getItem(from + index) as number | null) ?? 0;
}

function numericItems(vector: DuckDBVector): NumericItems | undefined {
  const items = (vector as unknown as { readonly items?: unknown }).items;
  if (vector instanceof DuckDBIntegerVector) return items instanceof Int32Array ? items : undefined;
  if (vector instanceof DuckDBSmallIntVector) return items instanceof Int16Array ? items : undefined;
  if (vector instanceof DuckDBTinyIntVector) return items instanceof Int8Array ? items : undefined;
  if (vector instanceof DuckDBUTinyIntVector) return items instanceof Uint8Array ? items : undefined;
  if (vector instanceof DuckDBFloatVector) return items instanceof Float32Array ? items : undefined;
  if (vector instanceof DuckDBDoubleVector) return items instanceof Float64Array ? items : undefined;
  return undefined;
}

/**
 * Writes `values` into a numeric vector of a new DuckDB data chunk (for an appender), the bulk
 * counterpart of copyNumericColumn: one `set` into the vector's typed array, then `flush` to DuckDB.
 * Every value is valid (a new vector's validity is all-valid).
 */
export function writeNumericColumn(vector: DuckDBVector, values: ArrayLike<number>): void {
  const items = numericItems(vector);
  if (items && values.length <= items.length) {
    items.set(values);
  } else {
    for (let index = 0; index < values.length; index++) vector.setItem(index, values[index] as never);
  }
  vector.flush();
}
