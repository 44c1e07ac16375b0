// One Lambda execution environment of the offline stack, run as a worker thread
// (local/lambda/functions.ts starts it): it loads the function's deployment
// bundle once (the INIT phase) and then runs one invocation at a time, as the
// Lambda runtime does. Plain JavaScript, so that it loads without the TypeScript
// loader the stack itself runs under: only the bundle runs here.
import { parentPort, workerData } from 'node:worker_threads';

/** @type {{ bundle: string; exportName: string; functionName: string; functionArn: string; memorySize: number; logGroupName: string; logStreamName: string }} */
const config = workerData;

// NODE_OPTIONS is not read by worker threads: honour the one flag the functions set.
if ((process.env.NODE_OPTIONS ?? '').includes('--enable-source-maps')) process.setSourceMapsEnabled(true);

function errorPayload(error) {
  if (error instanceof Error) return { errorType: error.name, errorMessage: error.message, trace: (error.stack ?? '').split('\n') };
  return { errorType: 'Error', errorMessage: String(error), trace: [] };
}

const notSupported = () => {
  throw new Error('callback-style completion (context.done/succeed/fail) is not supported: return a promise');
};

let handler;
try {
  const module = await import(config.bundle);
  handler = module[config.exportName];
  if (typeof handler !== 'function') {
    throw Object.assign(new Error(`index.${config.exportName} is undefined or not exported`), { name: 'Runtime.HandlerNotFound' });
  }
  parentPort.postMessage({ type: 'ready' });
} catch (error) {
  parentPort.postMessage({ type: 'init-error', error: errorPayload(error) });
}

parentPort.on('message', async ({ id, event, requestId, deadline, traceId }) => {
  // Set by the runtime before every invocation; Sampled=0: nothing is sent to X-Ray.
  process.env._X_AMZN_TRACE_ID = traceId;
  const context = {
    callbackWaitsForEmptyEventLoop: true,
    functionName: config.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: config.functionArn,
    memoryLimitInMB: String(config.memorySize),
    awsRequestId: requestId,
    logGroupName: config.logGroupName,
    logStreamName: config.logStreamName,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: notSupported,
    fail: notSupported,
    succeed: notSupported,
  };
  try {
    const result = await handler(JSON.parse(event), context);
    // What crosses Lambda's boundary is JSON: undefined is null, a class instance its JSON.
    parentPort.postMessage({ type: 'result', id, payload: result === undefined ? 'null' : JSON.stringify(result) });
  } catch (error) {
    parentPort.postMessage({ type: 'error', id, error: errorPayload(error) });
  }
});
