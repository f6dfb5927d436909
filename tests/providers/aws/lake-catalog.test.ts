/**
 * The lake in the Glue Data Catalog: the table definitions against the Parquet files ingest really
 * writes, and partition registration against the fake Glue control plane (the real @aws-sdk client).
 */
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingest } from '../../../core/lake/ingest';
import { Lake } from '../../../core/lake/lake';
import { startControlPlane, type ControlPlane } from '../../../providers/aws/emulator/control-plane';
import { GOLD_COLUMNS, GOLD_PARTITION_KEYS, lakePartitions, registerLakePartitions, SILVER_COLUMNS, SILVER_PARTITION_KEYS } from '../../../providers/aws/lake-catalog';
import { query } from '../../helpers/duckdb';
import { SAMPLE_FILES, temporaryDirectory } from '../../helpers/paths';

const LAKE_URI = 's3://retail-mlops-lake/team-a/lake';
const connection = { region: 'us-east-1', credentials: { accessKeyId: 'AKIDTESTTESTTEST', secretAccessKey: 'test-secret-not-used' } };

/** DuckDB's type of a Parquet column → the Hive type Glue declares. */
function hiveType(duckdbType: string): string {
  const scalar: Record<string, string> = {
    INTEGER: 'int', BIGINT: 'bigint', SMALLINT: 'smallint', TINYINT: 'tinyint', DOUBLE: 'double', FLOAT: 'float', VARCHAR: 'string', DATE: 'date',
  };
  if (scalar[duckdbType]) return scalar[duckdbType];
  const list = /^STRUCT\((.*)\)\[\]$/.exec(duckdbType);
  if (list) {
    const fields = list[1].split(', ').map((field) => {
      const [name, type] = field.split(' ');
      return `${name.toLowerCase()}:${hiveType(type)}`;
    });
    return `array<struct<${fields.join(',')}>>`;
  }
  throw new Error(`no Hive type for ${duckdbType}`);
}

describe('Glue lake catalog', () => {
  const scratch = temporaryDirectory('lake-catalog-');
  let lake: Lake;
  let controlPlane: ControlPlane;

  beforeAll(async () => {
    await ingest({ inputs: [SAMPLE_FILES[0]], lake: path.join(scratch.path, 'lake') });
    lake = await Lake.open(path.join(scratch.path, 'lake'));
    controlPlane = await startControlPlane();
  });
  afterAll(async () => {
    await controlPlane?.close();
    scratch.remove();
  });

  it('declares exactly the columns and types of the Parquet files ingest writes', async () => {
    for (const [layer, columns] of [['silver', SILVER_COLUMNS], ['gold', GOLD_COLUMNS]] as const) {
      const file = lake.absolute(lake.manifest[layer][0].path);
      const described = await query<{ column_name: string; column_type: string }>(`DESCRIBE SELECT * FROM read_parquet('${file}', hive_partitioning = false)`);
      const fromParquet = described.map((row) => [row.column_name.toLowerCase(), hiveType(row.column_type)]);
      expect(columns.map((column) => [column.name, column.type]), layer).toEqual(fromParquet);
    }
    expect(SILVER_PARTITION_KEYS.map((key) => key.name)).toEqual(['store_region', 'basket_type']);
    expect(GOLD_PARTITION_KEYS.map((key) => key.name)).toEqual(['shop_week']);
  });

  it('finds one partition per lake directory, with decoded values and the directory as location', () => {
    const partitions = lakePartitions(lake, LAKE_URI);
    const silverDirectories = new Set(lake.manifest.silver.map((entry) => path.posix.dirname(entry.path)));
    expect(partitions.silver).toHaveLength(silverDirectories.size);
    const topUp = partitions.silver.find((partition) => partition.Values?.[1] === 'Top Up')!;
    expect(topUp.StorageDescriptor?.Location).toMatch(new RegExp(`^${LAKE_URI}/silver/STORE_REGION=[ENSW]0[1-3]/BASKET_TYPE=Top%20Up/$`));
    expect(partitions.gold.map((partition) => partition.Values)).toEqual([['200607']]);
  });

  it('registers only the partitions the tables lack (BatchGetPartition, then BatchCreatePartition in batches of 100)', async () => {
    const options = { ...connection, endpoint: controlPlane.endpoint, databaseName: 'retail_mlops_dev', lakeUri: LAKE_URI };
    const first = await registerLakePartitions(lake, options);
    const silverCount = lakePartitions(lake, LAKE_URI).silver.length;
    expect(first).toEqual({ silver: { created: silverCount, existing: 0 }, gold: { created: 1, existing: 0 } });
    expect(controlPlane.requestsOf('CreateTable').map((request) => (request.body.TableInput as { Name: string }).Name)).toEqual(['silver', 'gold']);
    const goldCreate = controlPlane.requestsOf('BatchCreatePartition').find((request) => request.body.TableName === 'gold')!;
    expect(goldCreate.headers['x-amz-target']).toBe('AWSGlue.BatchCreatePartition');
    expect(goldCreate.body).toEqual({
      DatabaseName: 'retail_mlops_dev',
      TableName: 'gold',
      PartitionInputList: [
        {
          Values: ['200607'],
          StorageDescriptor: {
            Columns: GOLD_COLUMNS.map((column) => ({ Name: column.name, Type: column.type, ...(column.comment ? { Comment: column.comment } : {}) })),
            Location: `${LAKE_URI}/gold/SHOP_WEEK=200607/`,
            InputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
            OutputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
            SerdeInfo: { SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe', Parameters: { 'serialization.format': '1' } },
            Compressed: false,
            StoredAsSubDirectories: false,
          },
        },
      ],
    });
    for (const request of controlPlane.requestsOf('BatchCreatePartition')) expect((request.body.PartitionInputList as unknown[]).length).toBeLessThanOrEqual(100);

    // a second week arrives: only its partitions are new
    await ingest({ inputs: [SAMPLE_FILES[1]], lake: lake.root });
    const grown = await Lake.open(lake.root);
    const creates = controlPlane.requestsOf('BatchCreatePartition').length;
    const second = await registerLakePartitions(grown, options);
    expect(second.gold).toEqual({ created: 1, existing: 1 });
    expect(second.silver.existing).toBe(silverCount);
    const again = await registerLakePartitions(grown, options);
    expect(again.gold).toEqual({ created: 0, existing: 2 });
    expect(again.silver.created).toBe(0);
    expect(controlPlane.requestsOf('BatchCreatePartition').length).toBe(creates + (second.silver.created > 0 ? 2 : 1));
  });

  it('validates its options eagerly, listing every problem', async () => {
    const error = await registerLakePartitions(lake, { region: 'x', databaseName: 'Has-Dash', lakeUri: 'https://bucket', goldTableName: 'Gold', catalogId: '12' }).catch(
      (caught: unknown) => caught,
    );
    expect((error as { code: string }).code).toBe('INVALID_OPTIONS');
    expect((error as { problems: string[] }).problems).toHaveLength(5);
  });
});
