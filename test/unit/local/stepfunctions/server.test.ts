import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  SFNClient,
  StartExecutionCommand,
  StateMachineDoesNotExist,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { functionsOf, LocalResolver, stateMachinesOf } from '../../../../local/cloudformation/template.js';
import { LocalIam } from '../../../../local/iam/policy.js';
import { checkSignedRequest } from '../../../../local/iam/sigv4.js';
import { FunctionError } from '../../../../local/lambda/functions.js';
import { LocalStepFunctions } from '../../../../local/stepfunctions/server.js';
import { account, template } from '../fixtures.js';

const resolver = new LocalResolver(template, account);
const [workflow] = stateMachinesOf(resolver);
const stateMachineArn = workflow?.arn as string;

/** Stand-ins for the Lambdas: `train` does whatever the test sets, `mark-failed` records its input. */
let train: (payload: unknown) => Promise<unknown>;
let calls: { fn: string; payload: unknown }[];
const functions = {
  find: (reference: string) => {
    const fn = functionsOf(resolver).find((candidate) => candidate.arn === reference || candidate.logicalId === reference);
    if (!fn) throw new Error(`no local function ${reference}`);
    return fn;
  },
  invoke: async (reference: string, payload: unknown) => {
    const { logicalId } = functions.find(reference);
    calls.push({ fn: logicalId, payload });
    return logicalId === 'TrainFn' ? train(payload) : { marked: true };
  },
};

let stepFunctions: LocalStepFunctions;
let client: SFNClient;

beforeEach(async () => {
  calls = [];
  stepFunctions = new LocalStepFunctions(stateMachinesOf(resolver), functions, () => undefined);
  client = new SFNClient({ endpoint: await stepFunctions.listen(), region: account.region, credentials: { accessKeyId: 'l', secretAccessKey: 'l' } });
});

afterEach(async () => {
  client.destroy();
  await stepFunctions.close();
});

async function finished(executionArn: string): Promise<DescribeExecutionCommandOutput> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const execution = await client.send(new DescribeExecutionCommand({ executionArn }));
    if (execution.status !== 'RUNNING') return execution;
    if (Date.now() > deadline) throw new Error(`${executionArn} still RUNNING after 10 s`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const start = (name: string, input: unknown = { tenantId: 't', jobId: name }) =>
  client.send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }));

describe('local Step Functions: executions of the template definition', () => {
  it('runs the Lambda task with the {FunctionName, Payload} integration and applies OutputPath $.Payload', async () => {
    train = async (payload) => ({ ...(payload as object), status: 'COMPLETED' });
    const { executionArn, startDate } = await start('job-1');
    expect(executionArn).toBe('arn:aws:states:eu-west-1:000000000000:execution:Workflow:job-1');
    expect(startDate).toBeInstanceOf(Date);

    const execution = await finished(executionArn as string);
    expect(execution).toMatchObject({ status: 'SUCCEEDED', name: 'job-1', stateMachineArn, input: '{"tenantId":"t","jobId":"job-1"}' });
    expect(JSON.parse(execution.output as string)).toEqual({ tenantId: 't', jobId: 'job-1', status: 'COMPLETED' });
    expect(calls).toEqual([{ fn: 'TrainFn', payload: { tenantId: 't', jobId: 'job-1' } }]);
  });

  it('retries an error its Retry names (matched by the handler error type), then succeeds', async () => {
    let attempts = 0;
    train = async () => {
      attempts++;
      if (attempts < 3) throw new FunctionError('TransientError', 'throttled', []);
      return { ok: true };
    };
    const { executionArn } = await start('job-retry');
    expect((await finished(executionArn as string)).status).toBe('SUCCEEDED');
    expect(attempts).toBe(3);
  });

  it('catches any other error into $.failure with Lambda’s error JSON as the cause, then fails', async () => {
    train = async () => {
      throw new FunctionError('TypeError', 'x is undefined', ['TypeError: x is undefined']);
    };
    const { executionArn } = await start('job-broken');
    const execution = await finished(executionArn as string);

    expect(execution).toMatchObject({ status: 'FAILED', error: 'TrainingFailed', cause: 'see the job' });
    const markFailed = calls.find((call) => call.fn === 'MarkFailedFn')?.payload as { failure: { Error: string; Cause: string } };
    expect(markFailed).toMatchObject({ tenantId: 't', jobId: 'job-broken', failure: { Error: 'TypeError' } });
    expect(JSON.parse(markFailed.failure.Cause)).toEqual({ errorType: 'TypeError', errorMessage: 'x is undefined', trace: ['TypeError: x is undefined'] });
    expect(calls.filter((call) => call.fn === 'TrainFn')).toHaveLength(1); // TypeError is not retried
  });

  it('reports a crashed environment (exit, out of memory) to the state machine as Lambda.Unknown', async () => {
    train = async () => {
      throw new FunctionError('Runtime.OutOfMemory', 'RequestId: r Error: Runtime exited with error: signal: killed', []);
    };
    const { executionArn } = await start('job-crash');
    expect((await finished(executionArn as string)).status).toBe('FAILED');
    const markFailed = calls.find((call) => call.fn === 'MarkFailedFn')?.payload as { failure: { Error: string } };
    expect(markFailed.failure.Error).toBe('Lambda.Unknown');
  });

  it('checks each call against the caller’s role: AccessDeniedException for what it does not allow', async () => {
    const denied = new LocalStepFunctions(stateMachinesOf(resolver), functions, () => undefined, {
      authenticate: (request) => checkSignedRequest(request, () => 's'),
      authorize: (accessKeyId, action, resource) =>
        accessKeyId === 'ASIASTARTER' && action === 'states:StartExecution' && resource === stateMachineArn
          ? { allowed: true }
          : { allowed: false, message: `User: x is not authorized to perform: ${action} on resource: ${resource}` },
    });
    const as = (accessKeyId: string) => new SFNClient({ endpoint: url, region: account.region, credentials: { accessKeyId, secretAccessKey: 's' } });
    const url = await denied.listen();
    try {
      const starter = as('ASIASTARTER');
      const { executionArn } = await starter.send(new StartExecutionCommand({ stateMachineArn, name: 'job-iam', input: '{}' }));
      await expect(starter.send(new StopExecutionCommand({ executionArn }))).rejects.toMatchObject({
        name: 'AccessDeniedException',
        message: `User: x is not authorized to perform: states:StopExecution on resource: ${executionArn}`,
      });
      await expect(as('ASIAOTHER').send(new StartExecutionCommand({ stateMachineArn, name: 'job-iam-2' }))).rejects.toMatchObject({
        name: 'AccessDeniedException',
      });
      starter.destroy();
    } finally {
      await denied.close();
    }
  });

  it('refuses a call that is unsigned, signed by a key the stack did not issue, or wrongly signed, with 403', async () => {
    const iam = new LocalIam([], account.accountId, () => undefined, { accessKeyId: 'STACK', secretAccessKey: 'stack-secret' });
    const guarded = new LocalStepFunctions(stateMachinesOf(resolver), functions, () => undefined, iam);
    const url = await guarded.listen();
    const as = (accessKeyId: string, secretAccessKey: string) =>
      new SFNClient({ endpoint: url, region: account.region, credentials: { accessKeyId, secretAccessKey } });
    const clients = [as('STACK', 'stack-secret'), as('AKIASTRANGER', 'stack-secret'), as('STACK', 'guessed')];
    const [stack, stranger, forger] = clients as [SFNClient, SFNClient, SFNClient];
    try {
      const unsigned = await fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-amz-json-1.0', 'X-Amz-Target': 'AWSStepFunctions.StartExecution' },
        body: JSON.stringify({ stateMachineArn, name: 'job-unsigned', input: '{}' }),
      });
      expect(unsigned.status).toBe(403);
      expect(await unsigned.json()).toMatchObject({ __type: expect.stringMatching(/#MissingAuthenticationTokenException$/) });
      const start = (name: string) => new StartExecutionCommand({ stateMachineArn, name, input: '{}' });
      await expect(stranger.send(start('job-stranger'))).rejects.toMatchObject({ name: 'UnrecognizedClientException', $metadata: { httpStatusCode: 403 } });
      await expect(forger.send(start('job-forged'))).rejects.toMatchObject({ name: 'InvalidSignatureException', $metadata: { httpStatusCode: 403 } });
      expect(calls).toEqual([]); // nothing started
      await expect(stack.send(start('job-signed'))).resolves.toMatchObject({ executionArn: expect.any(String) });
    } finally {
      for (const client of clients) client.destroy();
      await guarded.close();
    }
  });

  it('puts a Status Change event on the bus for RUNNING and for how the execution ended, as Step Functions does', async () => {
    const put: { detail: Record<string, unknown> }[] = [];
    const emitting = new LocalStepFunctions(stateMachinesOf(resolver), functions, () => undefined, undefined, { put: (event) => void put.push(event) });
    const url = await emitting.listen();
    const sfn = new SFNClient({ endpoint: url, region: account.region, credentials: { accessKeyId: 'l', secretAccessKey: 'l' } });
    try {
      train = async () => {
        throw new FunctionError('TypeError', 'x is undefined', []);
      };
      const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn, name: 'job-events', input: '{"jobId":"j"}' }));
      const deadline = Date.now() + 10_000;
      while (put.length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(put.map((event) => event.detail.status)).toEqual(['RUNNING', 'FAILED']);
      expect(put[1]).toMatchObject({
        source: 'aws.states',
        'detail-type': 'Step Functions Execution Status Change',
        resources: [executionArn],
        detail: { executionArn, stateMachineArn, name: 'job-events', input: '{"jobId":"j"}', error: 'TrainingFailed' },
      });
    } finally {
      sfn.destroy();
      await emitting.close();
    }
  });

  it('keeps names unique: the same name and input while running is the same execution, anything else a conflict', async () => {
    let release!: () => void;
    train = () => new Promise((resolve) => (release = () => resolve({ ok: true })));
    const first = await start('job-2');
    expect((await start('job-2')).executionArn).toBe(first.executionArn);
    await expect(start('job-2', { other: true })).rejects.toBeInstanceOf(ExecutionAlreadyExists);

    await new Promise((resolve) => setTimeout(resolve, 50));
    release();
    await finished(first.executionArn as string);
    await expect(start('job-2')).rejects.toBeInstanceOf(ExecutionAlreadyExists);
  });

  it('stops a running execution: ABORTED at once, with the given error and cause', async () => {
    train = () => new Promise(() => undefined); // a Lambda that is still running
    const { executionArn } = await start('job-3');
    const { stopDate } = await client.send(new StopExecutionCommand({ executionArn, error: 'Cancelled', cause: 'by the client' }));
    expect(stopDate).toBeInstanceOf(Date);
    expect(await client.send(new DescribeExecutionCommand({ executionArn }))).toMatchObject({ status: 'ABORTED', error: 'Cancelled', cause: 'by the client' });
  });

  it('answers the service errors the SDK knows', async () => {
    await expect(client.send(new StartExecutionCommand({ stateMachineArn: `${stateMachineArn}-nope`, name: 'x' }))).rejects.toBeInstanceOf(
      StateMachineDoesNotExist,
    );
    const unknown = `${stateMachineArn.replace(':stateMachine:', ':execution:')}:never`;
    await expect(client.send(new StopExecutionCommand({ executionArn: unknown }))).rejects.toBeInstanceOf(ExecutionDoesNotExist);
    await expect(client.send(new DescribeExecutionCommand({ executionArn: unknown }))).rejects.toBeInstanceOf(ExecutionDoesNotExist);
    await expect(start('bad name')).rejects.toMatchObject({ name: 'InvalidName' });
  });
});
