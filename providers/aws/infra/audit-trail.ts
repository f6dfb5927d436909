/**
 * CloudTrail: every region's management events, log files SSE-KMS encrypted with the logs key and
 * digest-signed (log file validation), a copy in CloudWatch Logs for queries and alarms, and the
 * data bucket's writes to `registry/` as data events (who registered or changed a model version).
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as cloudtrail from 'aws-cdk-lib/aws-cloudtrail';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { ResolvedEnvironmentProps } from './environments';
import { DATA_PREFIXES, type DataStorage } from './storage';

export interface AuditTrailProps extends ResolvedEnvironmentProps {
  readonly storage: DataStorage;
}

export class AuditTrail extends Construct {
  readonly trail: cloudtrail.Trail;

  constructor(scope: Construct, id: string, props: AuditTrailProps) {
    super(scope, id);
    const logGroup = new logs.LogGroup(this, 'TrailLogs', {
      retention: props.logRetentionDays as logs.RetentionDays,
      encryptionKey: props.storage.logsKey,
      removalPolicy: props.removalPolicy === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    });
    this.trail = new cloudtrail.Trail(this, 'Trail', {
      trailName: `retail-mlops-${props.environment}`,
      bucket: props.storage.trailBucket,
      encryptionKey: props.storage.logsKey,
      enableFileValidation: true,
      isMultiRegionTrail: true,
      includeGlobalServiceEvents: true,
      sendToCloudWatchLogs: true,
      cloudWatchLogGroup: logGroup,
    });
    this.trail.addS3EventSelector([{ bucket: props.storage.dataBucket, objectPrefix: `${DATA_PREFIXES.registry}/` }], {
      readWriteType: cloudtrail.ReadWriteType.WRITE_ONLY,
      includeManagementEvents: false,
    });
  }
}
