// The ESM half of module-recorder.mjs: a resolve hook that records cloud SDK specifiers.
import { appendFileSync } from 'node:fs';

let log;
const CLOUD = /^@(aws-sdk|smithy|azure)\//;

export function initialize(data) {
  log = data.log;
}

export async function resolve(specifier, context, next) {
  if (log && CLOUD.test(specifier)) appendFileSync(log, `${specifier}\n`);
  return next(specifier, context);
}
