import { DuckDBInstance } from '@duckdb/node-api';
import { rmSync, mkdirSync } from 'node:fs';
rmSync('/tmp/proto/lake', { recursive: true, force: true }); mkdirSync('/tmp/proto/lake');
const mode = process.argv[2];
const db = await DuckDBInstance.create(mode === 'file' ? '/tmp/proto/lake/stage.duckdb' : ':memory:', { threads: '2', memory_limit: '900MB', temp_directory: '/tmp/proto/tmp' });
const c = await db.connect();
const q = async (label, s) => { const t=Date.now(); const r = await c.runAndReadAll(s); console.log(label, (Date.now()-t)+'ms', JSON.stringify(r.getRowObjectsJson()).slice(0,200)); };
const cols = "SHOP_WEEK,SHOP_DATE,SHOP_WEEKDAY,SHOP_HOUR,QUANTITY,SPEND,PROD_CODE,PROD_CODE_10,PROD_CODE_20,PROD_CODE_30,PROD_CODE_40,CUST_CODE,seg_1,seg_2,BASKET_ID,BASKET_SIZE,BASKET_PRICE_SENSITIVITY,BASKET_TYPE,BASKET_DOMINANT_MISSION,STORE_CODE,STORE_FORMAT,STORE_REGION".split(',');
const colSpec = '{' + cols.map(c => `'${c}':'VARCHAR'`).join(',') + '}';
const t0 = Date.now();
await q('checked', `create ${mode==='file'?'':'temp'} table checked as select
  try_cast(SHOP_WEEK as INTEGER) as SHOP_WEEK_I, try_strptime(SHOP_DATE, '%Y%m%d')::DATE as SHOP_DATE_D, try_cast(SHOP_WEEKDAY as TINYINT) W, try_cast(SHOP_HOUR as TINYINT) H,
  try_cast(QUANTITY as INTEGER) Q, try_cast(SPEND as DOUBLE) S, try_cast(BASKET_ID as BIGINT) B,
  PROD_CODE,PROD_CODE_10,PROD_CODE_20,PROD_CODE_30,PROD_CODE_40,CUST_CODE,seg_1,seg_2,BASKET_SIZE,BASKET_PRICE_SENSITIVITY,BASKET_TYPE,BASKET_DOMINANT_MISSION,STORE_CODE,STORE_FORMAT,STORE_REGION,
  hash(SHOP_WEEK,SHOP_DATE,SHOP_WEEKDAY,SHOP_HOUR,QUANTITY,SPEND,PROD_CODE,PROD_CODE_10,PROD_CODE_20,PROD_CODE_30,PROD_CODE_40,CUST_CODE,seg_1,seg_2,BASKET_ID,BASKET_SIZE,BASKET_PRICE_SENSITIVITY,BASKET_TYPE,BASKET_DOMINANT_MISSION,STORE_CODE,STORE_FORMAT,STORE_REGION) as LINE_HASH,
  case
   when SHOP_WEEK_I is null or W is null or H is null or Q is null or S is null or try_cast(SHOP_DATE as INTEGER) is null then 'non_numeric'
   when SHOP_DATE_D is null then 'bad_date'
   when dayofweek(SHOP_DATE_D)+1 <> W then 'date_not_in_week'
   when S < 0 or Q < 0 then 'negative_spend'
   when not regexp_full_match(PROD_CODE, 'PRD[0-9]{7}') or not regexp_full_match(PROD_CODE_10, 'CL[0-9]{5}') or not regexp_full_match(PROD_CODE_20,'DEP[0-9]{5}') or not regexp_full_match(PROD_CODE_30,'G[0-9]{5}') or not regexp_full_match(PROD_CODE_40,'D[0-9]{5}') or not regexp_full_match(BASKET_ID,'[0-9]{15}') or not regexp_full_match(STORE_CODE,'STORE[0-9]{5}') or not regexp_full_match(coalesce(CUST_CODE,''),'(CUST[0-9]{10})?') then 'unknown_code'
   when BASKET_TYPE not in ('Small Shop','Top Up','Full Shop','XX') or BASKET_PRICE_SENSITIVITY not in ('LA','MM','UM','XX') then 'invalid_value'
   else null end as REASON
  from read_csv('/tmp/proto/big.csv', columns=${colSpec}, header=true, auto_detect=false, delim=',', quote='"', escape='"', store_rejects=true, rejects_scan='rs', rejects_table='rt')`);
await q('dups', `create temp table dup_hashes as select LINE_HASH from checked group by all having count(*) > 1`);
await q('silver', `copy (select SHOP_WEEK_I as SHOP_WEEK, SHOP_DATE_D as SHOP_DATE, W as SHOP_WEEKDAY, H as SHOP_HOUR, Q as QUANTITY, S as SPEND, PROD_CODE,PROD_CODE_10,PROD_CODE_20,PROD_CODE_30,PROD_CODE_40,CUST_CODE, seg_1, seg_2, B as BASKET_ID, BASKET_SIZE, BASKET_PRICE_SENSITIVITY, BASKET_TYPE, BASKET_DOMINANT_MISSION, STORE_CODE, STORE_FORMAT, STORE_REGION from checked where REASON is null) to '/tmp/proto/lake/silver' (format parquet, partition_by (STORE_REGION, BASKET_TYPE), filename_pattern 'part-x-{i}')`);
await q('gold', `copy (select B BASKET_ID, any_value(SHOP_WEEK_I) SHOP_WEEK, min(SHOP_DATE_D) SHOP_DATE, any_value(W) SHOP_WEEKDAY, min(H) SHOP_HOUR, any_value(STORE_CODE) STORE_CODE, any_value(STORE_FORMAT) STORE_FORMAT, any_value(STORE_REGION) STORE_REGION, any_value(BASKET_TYPE) BASKET_TYPE, any_value(BASKET_DOMINANT_MISSION) BASKET_DOMINANT_MISSION, any_value(BASKET_SIZE) BASKET_SIZE, any_value(BASKET_PRICE_SENSITIVITY) BASKET_PRICE_SENSITIVITY, count(*) LINE_COUNT, sum(Q) ITEMS, sum(S) SPEND,
   list({PROD: PROD_CODE[4:]::INTEGER, CL: PROD_CODE_10[3:]::SMALLINT, DEP: PROD_CODE_20[4:]::SMALLINT, G: PROD_CODE_30[2:]::SMALLINT, D: PROD_CODE_40[2:]::SMALLINT, QUANTITY: Q::SMALLINT, SPEND: S::FLOAT}) LINES
   from checked where REASON is null group by B having count(distinct STORE_CODE)=1 and count(distinct SHOP_WEEK_I)=1 and count(distinct BASKET_PRICE_SENSITIVITY)=1) to '/tmp/proto/lake/gold' (format parquet, partition_by (SHOP_WEEK), filename_pattern 'part-x-{i}')`);
console.log('total', Date.now()-t0);
