/** Moved to providers/aws/emulator/s3.ts (the `npm run emulate -- aws` product); this re-export keeps older imports working. */
export { startS3Emulator, type RecordedS3Request, type S3Emulator } from '../../../../providers/aws/emulator/s3';
