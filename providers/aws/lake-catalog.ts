/**
 * The lake in the Glue Data Catalog, so Athena can query it where it lies in S3: one table per
 * layer (silver: product lines, partitioned by STORE_REGION and BASKET_TYPE; gold: one row per
 * basket, partitioned by SHOP_WEEK, its lines an array of structs), Parquet through Hive's Parquet
 * SerDe, and the partitions of a pushed lake registered with BatchCreatePartition.
 *
 * The column types are those of the Parquet files ingest writes (core/lake/ingest-sql.ts
 * SILVER_SELECT and GOLD_SELECT; a test compares them with a freshly ingested lake). Glue and
 * Athena names are lowercase; Athena resolves Parquet columns by name without regard to case.
 * Each partition names its own S3 location (the lake's directories, e.g.
 * `silver/STORE_REGION=E01/BASKET_TYPE=Top%20Up/`), so the encoded directory names do not matter.
 *
 * The table definitions are plain data: the infra stack (providers/aws/infra) declares the same
 * tables with CloudFormation.
 */
import type { GlueClient, PartitionInput, TableInput } from '@aws-sdk/client-glue';
import { checkConnectionOptions, clientConfiguration, errorNameOf, loadGlue, type AwsConnectionOptions } from './connection';
import { GlueRequestError } from './errors';
import { ProblemCollector } from '../../core/errors';
import type { Lake } from '../../core/lake/lake';

export interface CatalogColumn {
  readonly name: string;
  /** A Hive type: `int`, `bigint`, `string`, `date`, `array<struct<…>>`, … */
  readonly type: string;
  readonly comment?: string;
}

/** One lake table, independent of the Glue SDK's and CloudFormation's shapes. */
export interface LakeTableDefinition {
  readonly name: string;
  readonly description: string;
  readonly columns: readonly CatalogColumn[];
  readonly partitionKeys: readonly CatalogColumn[];
  /** `s3://bucket/prefix/<layer>/`. */
  readonly location: string;
}

export const PARQUET_FORMAT = {
  inputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
  outputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
  serializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
} as const;

const string = (name: string, comment?: string): CatalogColumn => ({ name, type: 'string', ...(comment ? { comment } : {}) });

/** Silver: typed product lines (partition columns last, as the key). */
export const SILVER_COLUMNS: readonly CatalogColumn[] = [
  { name: 'shop_week', type: 'int', comment: 'fiscal YYYYWW' },
  { name: 'shop_date', type: 'date' },
  { name: 'shop_weekday', type: 'tinyint', comment: '1 = Sunday … 7' },
  { name: 'shop_hour', type: 'tinyint' },
  { name: 'quantity', type: 'int' },
  { name: 'spend', type: 'double' },
  string('prod_code'),
  string('prod_code_10'),
  string('prod_code_20'),
  string('prod_code_30'),
  string('prod_code_40'),
  string('cust_code', 'empty for about 20% of baskets'),
  string('cust_price_sensitivity'),
  string('cust_lifestage'),
  { name: 'basket_id', type: 'bigint' },
  string('basket_size'),
  string('basket_price_sensitivity', 'the label: LA, MM, UM (XX = unclassified)'),
  string('basket_dominant_mission'),
  string('store_code'),
  string('store_format'),
  string('source_variant', 'header variant of the raw file'),
  string('source_file'),
  { name: 'source_row', type: 'bigint' },
];
export const SILVER_PARTITION_KEYS: readonly CatalogColumn[] = [string('store_region'), string('basket_type')];

/** The struct of one line in gold's LINES (codes as their numeric parts). */
export const GOLD_LINE_TYPE = 'struct<prod:int,prod_10:smallint,prod_20:smallint,prod_30:smallint,prod_40:smallint,quantity:smallint,spend:float>';

/** Gold: one row per basket. */
export const GOLD_COLUMNS: readonly CatalogColumn[] = [
  { name: 'basket_id', type: 'bigint' },
  { name: 'shop_date', type: 'date' },
  { name: 'shop_weekday', type: 'tinyint' },
  { name: 'shop_hour', type: 'tinyint' },
  string('store_code'),
  string('store_format'),
  string('store_region'),
  string('basket_type'),
  string('basket_dominant_mission'),
  string('basket_size'),
  string('cust_code'),
  string('cust_price_sensitivity'),
  string('cust_lifestage'),
  string('basket_price_sensitivity', 'the label: LA, MM, UM (XX = unclassified)'),
  { name: 'line_count', type: 'int' },
  { name: 'items', type: 'int' },
  { name: 'spend', type: 'double' },
  { name: 'lines', type: `array<${GOLD_LINE_TYPE}>` },
];
export const GOLD_PARTITION_KEYS: readonly CatalogColumn[] = [{ name: 'shop_week', type: 'int', comment: 'fiscal YYYYWW' }];

export interface LakeTableNames {
  /** @default 'silver' */
  readonly silverTableName?: string;
  /** @default 'gold' */
  readonly goldTableName?: string;
}

/** The silver and gold tables of the lake at `lakeUri` (`s3://bucket/prefix`). */
export interface LakeTables<T> {
  readonly silver: T;
  readonly gold: T;
}

export function lakeTableDefinitions(lakeUri: string, names: LakeTableNames = {}): LakeTables<LakeTableDefinition> {
  const root = lakeUri.replace(/\/+$/, '');
  return {
    silver: {
      name: names.silverTableName ?? 'silver',
      description: 'retail-mlops lake, silver layer: typed LGSR product lines (one row per line)',
      columns: SILVER_COLUMNS,
      partitionKeys: SILVER_PARTITION_KEYS,
      location: `${root}/silver/`,
    },
    gold: {
      name: names.goldTableName ?? 'gold',
      description: 'retail-mlops lake, gold layer: one row per basket with its lines',
      columns: GOLD_COLUMNS,
      partitionKeys: GOLD_PARTITION_KEYS,
      location: `${root}/gold/`,
    },
  };
}

function storageDescriptor(columns: readonly CatalogColumn[], location: string): NonNullable<TableInput['StorageDescriptor']> {
  return {
    Columns: columns.map((column) => ({ Name: column.name, Type: column.type, ...(column.comment ? { Comment: column.comment } : {}) })),
    Location: location,
    InputFormat: PARQUET_FORMAT.inputFormat,
    OutputFormat: PARQUET_FORMAT.outputFormat,
    SerdeInfo: { SerializationLibrary: PARQUET_FORMAT.serializationLibrary, Parameters: { 'serialization.format': '1' } },
    Compressed: false,
    StoredAsSubDirectories: false,
  };
}

/** A table definition as Glue's TableInput. */
export function glueTableInput(table: LakeTableDefinition): TableInput {
  return {
    Name: table.name,
    Description: table.description,
    TableType: 'EXTERNAL_TABLE',
    Parameters: { classification: 'parquet', EXTERNAL: 'TRUE' },
    PartitionKeys: table.partitionKeys.map((key) => ({ Name: key.name, Type: key.type, ...(key.comment ? { Comment: key.comment } : {}) })),
    StorageDescriptor: storageDescriptor(table.columns, table.location),
  };
}

/** The partitions of a lake version: one per directory its manifest lists, in manifest order. */
export function lakePartitions(lake: Lake, lakeUri: string, names: LakeTableNames = {}): LakeTables<PartitionInput[]> {
  const tables = lakeTableDefinitions(lakeUri, names);
  const root = lakeUri.replace(/\/+$/, '');
  type Entry = { readonly path: string };
  const collect = <T extends Entry>(entries: readonly T[], table: LakeTableDefinition, values: (entry: T) => string[]): PartitionInput[] => {
    const seen = new Map<string, PartitionInput>();
    for (const entry of entries) {
      const directory = entry.path.slice(0, entry.path.lastIndexOf('/') + 1);
      if (seen.has(directory)) continue;
      seen.set(directory, { Values: values(entry), StorageDescriptor: storageDescriptor(table.columns, `${root}/${directory}`) });
    }
    return [...seen.values()];
  };
  return {
    silver: collect(lake.manifest.silver, tables.silver, (entry) => [entry.STORE_REGION, entry.BASKET_TYPE]),
    gold: collect(lake.manifest.gold, tables.gold, (entry) => [String(entry.SHOP_WEEK)]),
  };
}

export interface LakeCatalogOptions extends AwsConnectionOptions, LakeTableNames {
  /** The Glue database of the lake's tables. */
  readonly databaseName: string;
  /** Where the lake is: `s3://bucket/prefix` (what pushLake published to). */
  readonly lakeUri: string;
  /**
   * The Data Catalog's account.
   * @default - the caller's account
   */
  readonly catalogId?: string;
  /**
   * Create the database and the tables when they do not exist (the infra stack declares them; this keeps a bare account working).
   * @default true
   */
  readonly createTables?: boolean;
}

export interface PartitionRegistration {
  /** Partitions the lake has that the table lacked, now registered. */
  readonly created: number;
  /** Partitions the table already had. */
  readonly existing: number;
}

const NAME_PATTERN = /^[a-z0-9_]{1,255}$/;

/**
 * Registers the partitions of a lake (after pushLake) that its tables lack: BatchGetPartition finds
 * the existing ones, BatchCreatePartition adds the rest, 100 at a time.
 * @throws InvalidOptionsError · GlueRequestError
 */
export async function registerLakePartitions(lake: Lake, options: LakeCatalogOptions): Promise<LakeTables<PartitionRegistration>> {
  const problems = new ProblemCollector('lake catalog options');
  checkConnectionOptions(options, problems);
  problems.check(typeof options?.databaseName === 'string' && NAME_PATTERN.test(options.databaseName), `databaseName must be lowercase letters, digits and _, got ${JSON.stringify(options?.databaseName)}`);
  problems.check(typeof options?.lakeUri === 'string' && /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/.test(options.lakeUri), `lakeUri must be s3://bucket[/prefix], got ${JSON.stringify(options?.lakeUri)}`);
  for (const key of ['silverTableName', 'goldTableName'] as const) {
    problems.check(options?.[key] === undefined || NAME_PATTERN.test(options[key]), `${key} must be lowercase letters, digits and _, got ${JSON.stringify(options?.[key])}`);
  }
  problems.check(options?.catalogId === undefined || /^\d{12}$/.test(options.catalogId), `catalogId must be a 12-digit account id, got ${JSON.stringify(options?.catalogId)}`);
  problems.throwIfAny();

  const glue = await loadGlue();
  const client: GlueClient = new glue.GlueClient(clientConfiguration(options));
  const catalog = options.catalogId ? { CatalogId: options.catalogId } : {};
  const database = options.databaseName;
  const tables = lakeTableDefinitions(options.lakeUri, options);
  const call = async <T>(operation: string, resource: string, body: () => Promise<T>): Promise<T> => {
    try {
      return await body();
    } catch (error) {
      throw new GlueRequestError(operation, resource, { cause: error });
    }
  };
  const ignoreExisting = async (operation: string, resource: string, body: () => Promise<unknown>): Promise<void> => {
    try {
      await body();
    } catch (error) {
      if (errorNameOf(error) !== 'AlreadyExistsException') throw new GlueRequestError(operation, resource, { cause: error });
    }
  };
  try {
    if (options.createTables ?? true) {
      await ignoreExisting('CreateDatabase', database, () =>
        client.send(new glue.CreateDatabaseCommand({ ...catalog, DatabaseInput: { Name: database, Description: 'retail-mlops lake (LGSR baskets)' } })),
      );
      for (const table of [tables.silver, tables.gold]) {
        const input = glueTableInput(table);
        await ignoreExisting('CreateTable', `${database}.${table.name}`, () => client.send(new glue.CreateTableCommand({ ...catalog, DatabaseName: database, TableInput: input })));
      }
    }
    const partitions = lakePartitions(lake, options.lakeUri, options);
    const register = async (table: LakeTableDefinition, wanted: readonly PartitionInput[]): Promise<PartitionRegistration> => {
      const resource = `${database}.${table.name}`;
      const existing = new Set<string>();
      for (let start = 0; start < wanted.length; start += 1000) {
        let keys = wanted.slice(start, start + 1000).map((partition) => ({ Values: partition.Values! }));
        for (let attempt = 0; keys.length > 0; attempt++) {
          if (attempt > 10) throw new GlueRequestError('BatchGetPartition', resource, { cause: new Error(`${keys.length} keys stayed unprocessed`) });
          const response = await call('BatchGetPartition', resource, () =>
            client.send(new glue.BatchGetPartitionCommand({ ...catalog, DatabaseName: database, TableName: table.name, PartitionsToGet: keys })),
          );
          for (const partition of response.Partitions ?? []) existing.add(JSON.stringify(partition.Values));
          keys = (response.UnprocessedKeys ?? []).map((key) => ({ Values: key.Values! }));
        }
      }
      const missing = wanted.filter((partition) => !existing.has(JSON.stringify(partition.Values)));
      for (let start = 0; start < missing.length; start += 100) {
        const batch = missing.slice(start, start + 100);
        const response = await call('BatchCreatePartition', resource, () =>
          client.send(new glue.BatchCreatePartitionCommand({ ...catalog, DatabaseName: database, TableName: table.name, PartitionInputList: batch })),
        );
        const failures = (response.Errors ?? []).filter((failure) => failure.ErrorDetail?.ErrorCode !== 'AlreadyExistsException');
        if (failures.length > 0) {
          const detail = failures.map((failure) => `${JSON.stringify(failure.PartitionValues)}: ${failure.ErrorDetail?.ErrorCode} ${failure.ErrorDetail?.ErrorMessage}`).join('; ');
          throw new GlueRequestError('BatchCreatePartition', resource, { cause: new Error(detail) });
        }
      }
      return { created: missing.length, existing: wanted.length - missing.length };
    };
    return { silver: await register(tables.silver, partitions.silver), gold: await register(tables.gold, partitions.gold) };
  } finally {
    client.destroy();
  }
}
