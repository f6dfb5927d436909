// Preloaded with `node --import` by tests: records every module request naming a cloud SDK
// (@aws-sdk/*, @smithy/*, @azure/*), CommonJS and ESM alike, into $RETAIL_MLOPS_TEST_MODULE_LOG.
import { appendFileSync } from 'node:fs';
import Module, { register } from 'node:module';

const log = process.env.RETAIL_MLOPS_TEST_MODULE_LOG;
const CLOUD = /^@(aws-sdk|smithy|azure)\//;
if (log) {
  const load = Module._load;
  Module._load = function recordingLoad(request, ...rest) {
    if (CLOUD.test(request)) appendFileSync(log, `${request}\n`);
    return load.call(this, request, ...rest);
  };
  register('./module-recorder-hooks.mjs', import.meta.url, { data: { log } });
}
