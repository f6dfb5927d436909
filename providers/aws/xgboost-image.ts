/**
 * The image of SageMaker's built-in XGBoost algorithm, version 1.7-1, per region. The registry
 * accounts are AWS's (copied from the SageMaker Python SDK's image_uri_config/xgboost.json,
 * "training" → "1.7-1"); the image is `<account>.dkr.ecr.<region>.<domain>/sagemaker-xgboost:1.7-1`.
 * The ISO partitions (us-iso*, us-isof*) are left out: their domains differ and nothing here can check them.
 */
import { InvalidOptionsError } from '../../core/errors';

export const XGBOOST_ALGORITHM_VERSION = '1.7-1';

/** Region → the ECR registry account that serves sagemaker-xgboost:1.7-1. */
export const XGBOOST_REGISTRY_ACCOUNTS: Readonly<Record<string, string>> = {
  'af-south-1': '510948584623',
  'ap-east-1': '651117190479',
  'ap-northeast-1': '354813040037',
  'ap-northeast-2': '366743142698',
  'ap-northeast-3': '867004704886',
  'ap-south-1': '720646828776',
  'ap-south-2': '628508329040',
  'ap-southeast-1': '121021644041',
  'ap-southeast-2': '783357654285',
  'ap-southeast-3': '951798379941',
  'ap-southeast-4': '106583098589',
  'ca-central-1': '341280168497',
  'ca-west-1': '190319476487',
  'cn-north-1': '450853457545',
  'cn-northwest-1': '451049120500',
  'eu-central-1': '492215442770',
  'eu-central-2': '680994064768',
  'eu-north-1': '662702820516',
  'eu-south-1': '978288397137',
  'eu-south-2': '104374241257',
  'eu-west-1': '141502667606',
  'eu-west-2': '764974769150',
  'eu-west-3': '659782779980',
  'il-central-1': '898809789911',
  'me-central-1': '272398656194',
  'me-south-1': '801668240914',
  'sa-east-1': '737474898029',
  'us-east-1': '683313688378',
  'us-east-2': '257758044811',
  'us-gov-east-1': '237065988967',
  'us-gov-west-1': '414596584902',
  'us-west-1': '746614075791',
  'us-west-2': '246618743249',
};

/**
 * The training image URI of the built-in XGBoost 1.7-1 algorithm in `region`.
 * @throws InvalidOptionsError for a region the table does not know (listing the known ones)
 */
export function xgboostImageUri(region: string): string {
  const account = Object.prototype.hasOwnProperty.call(XGBOOST_REGISTRY_ACCOUNTS, region) ? XGBOOST_REGISTRY_ACCOUNTS[region] : undefined;
  if (!account) {
    throw new InvalidOptionsError('SageMaker XGBoost image', [
      `no sagemaker-xgboost:${XGBOOST_ALGORITHM_VERSION} registry is known for region '${region}' (known: ${Object.keys(XGBOOST_REGISTRY_ACCOUNTS).join(', ')}); ` +
        'pass trainingImage explicitly',
    ]);
  }
  const domain = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
  return `${account}.dkr.ecr.${region}.${domain}/sagemaker-xgboost:${XGBOOST_ALGORITHM_VERSION}`;
}
