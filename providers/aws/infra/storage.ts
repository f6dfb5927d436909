/**
 * Keys and buckets. Every bucket blocks public access, accepts TLS 1.2+ only (a policy denies
 * `aws:SecureTransport = false`), is versioned, and logs access to the access-log bucket.
 *
 * - data bucket (SSE-KMS with the data key, S3 Bucket Keys on): `lake/` (raw → Standard-IA →
 *   Glacier Instant Retrieval; quarantine and predictions expire), `registry/`, `training/`
 *   (SageMaker channels and outputs expire after 30 days: they can be rebuilt from the lake);
 * - Athena results bucket (SSE-KMS, results expire after 30 days);
 * - access-log bucket (SSE-S3: S3 server access logging cannot write to SSE-KMS buckets);
 * - CloudTrail bucket (SSE-S3 at rest; the log files themselves are SSE-KMS with the logs key).
 *
 * KMS keys rotate yearly. `removalPolicy: destroy` empties and deletes the buckets with the stack
 * (dev, staging); `retain` keeps data, keys and logs when the stack goes (production).
 */
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { ResolvedEnvironmentProps } from './environments';

/** Areas of the data bucket (the provider's `lakePrefix`, `registryPrefix`, `trainingPrefix` defaults). */
export const DATA_PREFIXES = { lake: 'lake', registry: 'registry', training: 'training' } as const;

export class DataStorage extends Construct {
  /** Encrypts the data bucket, Athena results, the registry's objects, training volumes and outputs. */
  readonly dataKey: kms.Key;
  /** Encrypts CloudTrail log files, CloudWatch log groups, SNS topics. */
  readonly logsKey: kms.Key;
  readonly dataBucket: s3.Bucket;
  readonly athenaResultsBucket: s3.Bucket;
  readonly accessLogsBucket: s3.Bucket;
  readonly trailBucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: ResolvedEnvironmentProps) {
    super(scope, id);
    const destroy = props.removalPolicy === 'destroy';
    const removalPolicy = destroy ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
    const stack = Stack.of(this);

    this.dataKey = new kms.Key(this, 'DataKey', {
      alias: `alias/retail-mlops-${props.environment}-data`,
      description: `retail-mlops ${props.environment}: lake, registry, training data and outputs`,
      enableKeyRotation: true,
      removalPolicy,
      pendingWindow: Duration.days(destroy ? 7 : 30),
    });
    this.logsKey = new kms.Key(this, 'LogsKey', {
      alias: `alias/retail-mlops-${props.environment}-logs`,
      description: `retail-mlops ${props.environment}: CloudTrail, CloudWatch Logs, SNS`,
      enableKeyRotation: true,
      removalPolicy,
      pendingWindow: Duration.days(destroy ? 7 : 30),
    });
    // CloudWatch Logs encrypts the stack's log groups (flow logs, CloudTrail) with the logs key
    this.logsKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchLogsUse',
        principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:*` } },
      }),
    );

    const common = {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy,
      autoDeleteObjects: destroy,
    } as const;

    this.accessLogsBucket = new s3.Bucket(this, 'AccessLogsBucket', {
      ...common,
      encryption: s3.BucketEncryption.S3_MANAGED,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(365), noncurrentVersionExpiration: Duration.days(30) }],
    });

    this.dataBucket = new s3.Bucket(this, 'DataBucket', {
      ...common,
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.dataKey,
      bucketKeyEnabled: true,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'data/',
      lifecycleRules: [
        {
          id: 'raw-to-colder-storage',
          prefix: `${DATA_PREFIXES.lake}/raw/`,
          transitions: [
            { storageClass: s3.StorageClass.INFREQUENT_ACCESS, transitionAfter: Duration.days(props.rawInfrequentAccessAfterDays) },
            // Instant Retrieval, not Flexible: a lake pull reads raw files with a plain GetObject
            { storageClass: s3.StorageClass.GLACIER_INSTANT_RETRIEVAL, transitionAfter: Duration.days(props.rawGlacierAfterDays) },
          ],
        },
        { id: 'expire-quarantine', prefix: `${DATA_PREFIXES.lake}/quarantine/`, expiration: Duration.days(props.quarantineExpiryDays) },
        { id: 'expire-predictions', prefix: `${DATA_PREFIXES.lake}/predictions/`, expiration: Duration.days(props.predictionsExpiryDays) },
        { id: 'expire-training-jobs', prefix: `${DATA_PREFIXES.training}/jobs/`, expiration: Duration.days(30) },
        { id: 'expire-old-versions', noncurrentVersionExpiration: Duration.days(destroy ? 7 : 90), abortIncompleteMultipartUploadAfter: Duration.days(7) },
      ],
    });

    this.athenaResultsBucket = new s3.Bucket(this, 'AthenaResultsBucket', {
      ...common,
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.dataKey,
      bucketKeyEnabled: true,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'athena-results/',
      lifecycleRules: [{ id: 'expire-query-results', expiration: Duration.days(30), noncurrentVersionExpiration: Duration.days(7) }],
    });

    this.trailBucket = new s3.Bucket(this, 'TrailBucket', {
      ...common,
      encryption: s3.BucketEncryption.S3_MANAGED,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'cloudtrail/',
      lifecycleRules: [
        {
          id: 'archive-trail',
          transitions: [{ storageClass: s3.StorageClass.GLACIER_INSTANT_RETRIEVAL, transitionAfter: Duration.days(90) }],
          expiration: Duration.days(destroy ? 365 : 2555),
          noncurrentVersionExpiration: Duration.days(30),
        },
      ],
    });
  }
}
