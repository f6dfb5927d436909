import * as os from 'node:os';
import * as path from 'node:path';
import { DuckDBInstance, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';

/** Options for an embedded DuckDB session. */
export interface DuckDbSessionOptions {
  /** Worker threads. @default the number of CPU cores */
  readonly threads?: number;
  /** Memory DuckDB may use before spilling to `spillDirectory`. @default '1GB' */
  readonly memoryLimit?: string;
  /** Where DuckDB spills when over `memoryLimit`. @default `<os temp dir>/retail-mlops-duckdb` (never the working directory) */
  readonly spillDirectory?: string;
}

/**
 * An in-memory DuckDB database with one connection: the SQL engine of the lake. DuckDB comes as a
 * bundled binary; the session never installs or loads extensions from the network.
 */
export class DuckDbSession {
  static async open(options: DuckDbSessionOptions = {}): Promise<DuckDbSession> {
    const settings: Record<string, string> = {
      memory_limit: options.memoryLimit ?? '1GB',
      autoinstall_known_extensions: 'false',
      autoload_known_extensions: 'false',
      preserve_insertion_order: 'true',
    };
    if (options.threads !== undefined) settings.threads = String(options.threads);
    settings.temp_directory = options.spillDirectory ?? path.join(os.tmpdir(), 'retail-mlops-duckdb');
    const instance = await DuckDBInstance.create(':memory:', settings);
    const connection = await instance.connect();
    return new DuckDbSession(instance, connection);
  }

  private constructor(
    private readonly instance: DuckDBInstance,
    readonly connection: DuckDBConnection,
  ) {}

  /** Runs statements for their effect. */
  async run(sql: string, values?: DuckDBValue[]): Promise<void> {
    const started = performance.now();
    await this.connection.run(sql, values);
    if (process.env.RETAIL_MLOPS_DEBUG) {
      process.stderr.write(`[duckdb ${(performance.now() - started).toFixed(0)} ms] ${sql.replace(/\s+/g, ' ').slice(0, 100)}\n`);
    }
  }

  /** Runs a query and returns its rows as plain JS objects (BIGINT → bigint, DATE → Date-like). */
  async rows<T = Record<string, unknown>>(sql: string, values?: DuckDBValue[]): Promise<T[]> {
    const reader = await this.connection.runAndReadAll(sql, values);
    return reader.getRowObjectsJS() as T[];
  }

  /** Runs a query returning one number (counts, sums). */
  async scalar(sql: string, values?: DuckDBValue[]): Promise<number> {
    const reader = await this.connection.runAndReadAll(sql, values);
    const value = reader.getRowsJS()[0]?.[0];
    return value === null || value === undefined ? 0 : Number(value);
  }

  close(): void {
    this.connection.closeSync();
    this.instance.closeSync();
  }
}

/** A SQL string literal. */
export function sqlString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** A SQL list of string literals, e.g. for read_parquet([...]). */
export function sqlStringList(values: readonly string[]): string {
  return `[${values.map(sqlString).join(', ')}]`;
}
