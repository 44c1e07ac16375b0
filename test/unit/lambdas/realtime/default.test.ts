import { beforeAll, describe, expect, it } from 'vitest';
import { context, wsEvent } from './fixtures.js';

let handler: typeof import('../../../../lambdas/realtime/default.js')['handler'];

beforeAll(async () => {
  ({ handler } = await import('../../../../lambdas/realtime/default.js'));
});

async function send(body: string | undefined, isBase64Encoded = false) {
  const result = await handler({ ...wsEvent({ routeKey: '$default', ...(body === undefined ? {} : { body }) }), isBase64Encoded }, context);
  expect(result.statusCode).toBe(200);
  return JSON.parse(result.body ?? '') as { type: string; code: string; message: string };
}

describe('$default', () => {
  it.each([['not json'], ['{"action":'], ['[1,2]'], ['"subscribe"'], ['{}'], ['{"action":7}']])('answers UNKNOWN_ACTION for %j', async (body) => {
    const answer = await send(body);
    expect(answer).toEqual({ type: 'error', code: 'UNKNOWN_ACTION', message: expect.stringContaining('"action"') });
  });

  it('answers UNKNOWN_ACTION naming an action no route has', async () => {
    const answer = await send(JSON.stringify({ action: 'cancel', jobId: 'x' }));
    expect(answer).toMatchObject({ type: 'error', code: 'UNKNOWN_ACTION' });
    expect(answer.message).toContain('unknown action "cancel"');
  });

  it('answers UNKNOWN_ACTION for an empty or binary frame', async () => {
    expect(await send(undefined)).toMatchObject({ code: 'UNKNOWN_ACTION' });
    expect(await send(Buffer.from([0xff, 0x00, 0x13]).toString('base64'), true)).toMatchObject({ code: 'UNKNOWN_ACTION' });
  });
});
