/**
 * One batch prediction in the predict handler itself (lambdas/api/predict.ts), the
 * model already held in memory as it is in a warm environment: 10,000 inputs of 100
 * features by default. Prints the handler's time (median and max of the runs) and,
 * beside it, its parts measured alone: JSON.parse of the body, the zod check and the
 * fast check the handler uses for a well-formed batch (src/domain/schemas.ts
 * parsePredictBody), the multiply-adds, and the answer's JSON.stringify.
 *
 * The body is ~10 MB, over the API's 1 MB limit (docs/rules.md), so this raises
 * LIMIT_MAX_BODY_BYTES for the handler: what is measured is the handler's work for a
 * batch that large, as a smaller limit would only refuse it sooner.
 *
 *   npx tsx bench/predict-batch.ts [--inputs 10000] [--features 100] [--runs 15]
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';

const { values } = parseArgs({
  options: { inputs: { type: 'string', default: '10000' }, features: { type: 'string', default: '100' }, runs: { type: 'string', default: '15' } },
});
const [count, width, runs] = [Number(values.inputs), Number(values.features), Number(values.runs)];

process.env.MODELS_TABLE_NAME ??= 'bench-models';
process.env.LIMIT_MAX_BODY_BYTES = String(64 * 1024 * 1024);
process.env.POWERTOOLS_METRICS_DISABLED = 'true';
process.env.POWERTOOLS_LOG_LEVEL = 'WARN';
process.env.AWS_REGION ??= 'us-east-1';
const { handler, modelCache } = await import('../lambdas/api/predict.js');
const { parseInput, parsePredictBody, predictBodySchema } = await import('#domain/schemas.js');
const { limitsFrom } = await import('#domain/limits.js');
const { predict } = await import('#domain/regression.js');

const TENANT = 'bench';
const MODEL_ID = '01JH5Z3V8Q6K9W2X4Y7Z0A1B2D';
let seed = 42;
const random = () => {
  seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
  return (seed / 2 ** 31) * 2 - 1;
};
const coefficients = Array.from({ length: width }, random);
modelCache.set(TENANT, MODEL_ID, { coefficients, intercept: 0.5, expiresAt: Date.now() / 1000 + 86_400, columns: [] });
const inputs = Array.from({ length: count }, () => Array.from({ length: width }, () => Math.round(random() * 1e6) / 1e3));
const body = JSON.stringify({ inputs });

const event = {
  httpMethod: 'POST',
  path: `/models/${MODEL_ID}/predict`,
  resource: '/models/{modelId}/predict',
  body,
  isBase64Encoded: false,
  headers: { 'Content-Type': 'application/json' },
  multiValueHeaders: { 'Content-Type': ['application/json'] },
  pathParameters: { modelId: MODEL_ID },
  queryStringParameters: null,
  multiValueQueryStringParameters: null,
  stageVariables: null,
  requestContext: { authorizer: { tenantId: TENANT }, requestId: 'bench', path: '/predict', httpMethod: 'POST', stage: 'v1' },
} as unknown as APIGatewayProxyEvent;
const context = { functionName: 'predict', awsRequestId: 'bench', getRemainingTimeInMillis: () => 10_000 } as unknown as Context;

const time = (work: () => unknown): number => {
  const start = performance.now();
  work();
  return performance.now() - start;
};
const median = (list: number[]) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)] as number;
const schema = predictBodySchema(limitsFrom(process.env));
const parsed = JSON.parse(body) as unknown;
const answer = predict({ coefficients, intercept: 0.5 }, inputs);

const handlerTimes: number[] = [];
const parts = { parse: [] as number[], 'zod check': [] as number[], 'fast check': [] as number[], predict: [] as number[], stringify: [] as number[] };
for (let run = 0; run < runs + 2; run++) {
  const start = performance.now();
  const result = (await handler(event, context)) as { statusCode: number; body: string };
  const elapsed = performance.now() - start;
  if (result.statusCode !== 200) throw new Error(`the handler answered ${result.statusCode}: ${result.body.slice(0, 300)}`);
  if (run === 0 && (JSON.parse(result.body) as { predictions: number[] }).predictions[count - 1] !== answer[count - 1]) throw new Error('wrong answer');
  if (run < 2) continue; // warm-up
  handlerTimes.push(elapsed);
  parts.parse.push(time(() => JSON.parse(body)));
  parts['zod check'].push(time(() => parseInput(schema, parsed)));
  parts['fast check'].push(time(() => parsePredictBody(schema, limitsFrom(process.env), parsed)));
  parts.predict.push(time(() => predict({ coefficients, intercept: 0.5 }, inputs)));
  parts.stringify.push(time(() => JSON.stringify({ modelId: MODEL_ID, predictions: answer, timestamp: new Date().toISOString() })));
}
console.log(
  `Node.js ${process.version}, load average ${loadavg()
    .map((value) => value.toFixed(2))
    .join(' ')}`,
);
console.log(`batch of ${count.toLocaleString('en')} inputs x ${width} features (body ${(body.length / 1e6).toFixed(1)} MB), ${runs} runs after 2 warm-ups:`);
console.log(`  handler: median ${median(handlerTimes).toFixed(1)} ms, max ${Math.max(...handlerTimes).toFixed(1)} ms`);
for (const [name, list] of Object.entries(parts)) console.log(`  ${name.padEnd(10)} alone: median ${median(list).toFixed(1)} ms`);
