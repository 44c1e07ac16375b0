import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { ExecutionAbortedError, ExecutionError, ExecutionTimeoutError, StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { z } from 'zod';
import type { StateMachineDefinitionSource } from '../cloudformation/template.js';
import type { LocalEventBus } from '../events/bus.js';
import { close, listen, readBody } from '../http-server.js';
import { accessKeyOfRequest, type LocalIam } from '../iam/policy.js';
import { JSON_SERVICE_AUTHENTICATION_ERRORS } from '../iam/sigv4.js';
import { FunctionError, type LocalLambdas } from '../lambda/functions.js';
import { traceRequests } from '../trace.js';

/**
 * A loopback Step Functions endpoint: enough of the service's JSON protocol
 * (awsJson1_0, `X-Amz-Target: AWSStepFunctions.<Operation>`) for an unchanged
 * `@aws-sdk/client-sfn` pointed at it by AWS_ENDPOINT_URL_SFN. Executions run the
 * template's own definition with aws-local-stepfunctions; Lambda tasks call the
 * local handlers.
 */

type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

interface Execution {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  input: string;
  status: ExecutionStatus;
  startDate: Date;
  stopDate?: Date;
  output?: string;
  error?: string;
  cause?: string;
  abort: () => void;
}

interface LocalStateMachine {
  source: StateMachineDefinitionSource;
  machine: StateMachine;
  taskHandlers: Record<string, (input: unknown) => Promise<unknown>>;
}

/** An error the service answers with: its `__type` is what the SDK turns into a typed exception. */
class ServiceError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

type Functions = Pick<LocalLambdas, 'invoke' | 'find'>;

export class LocalStepFunctions {
  private readonly machines = new Map<string, LocalStateMachine>();
  private readonly executions = new Map<string, Execution>();
  private readonly server: Server = createServer((request, response) => void this.serve(request, response));

  constructor(
    sources: readonly StateMachineDefinitionSource[],
    readonly functions: Functions,
    private readonly log: (line: string) => void = console.log,
    /** Checks each call's signature and then the caller's role; unchecked when absent. */
    private readonly iam?: Pick<LocalIam, 'authorize' | 'authenticate'>,
    /** Where "Step Functions Execution Status Change" events go, as on AWS's default event bus. */
    private readonly events?: Pick<LocalEventBus, 'put'>,
  ) {
    for (const source of sources) {
      const definition = source.definition as unknown as StateMachineDefinition;
      this.machines.set(source.arn, { source, machine: new StateMachine(definition), taskHandlers: lambdaTaskHandlers(definition, functions) });
    }
  }

  /** Starts the endpoint and answers its URL (for AWS_ENDPOINT_URL_SFN). */
  async listen(port = 0): Promise<string> {
    traceRequests(this.server, 'sfn', (request) => ({ detail: { operation: String(request.headers['x-amz-target'] ?? '').split('.')[1] } }));
    return `http://127.0.0.1:${await listen(this.server, port)}`;
  }

  /** Aborts every running execution and stops the endpoint. */
  async close(): Promise<void> {
    for (const execution of this.executions.values()) {
      if (execution.status === 'RUNNING') this.stop(execution, 'States.Aborted', 'the local stack stopped');
    }
    await close(this.server);
  }

  private async serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const operation = /^AWSStepFunctions\.(\w+)$/.exec(String(request.headers['x-amz-target'] ?? ''))?.[1];
    let status = 200;
    let answer: unknown;
    try {
      const { body } = await readBody(request, 1024 * 1024);
      this.authenticate(request, body);
      const input = body.length === 0 ? {} : (JSON.parse(body.toString('utf8')) as unknown);
      this.authorize(request, operation, input);
      answer = this.dispatch(operation, input);
    } catch (error) {
      status = error instanceof ServiceError ? error.status : 500;
      const type = error instanceof ServiceError ? error.type : 'InternalFailure';
      answer = { __type: `com.amazonaws.states#${type}`, message: error instanceof Error ? error.message : String(error) };
    }
    response.writeHead(status, { 'Content-Type': 'application/x-amz-json-1.0', 'x-amzn-RequestId': randomUUID() });
    response.end(JSON.stringify(answer));
  }

  /** Who is calling: a request not signed by a key the stack issued is refused before anything else (local/iam/sigv4.ts). */
  private authenticate(request: IncomingMessage, body: Buffer): void {
    if (!this.iam) return;
    const authentication = this.iam.authenticate({ method: request.method ?? 'POST', url: request.url ?? '/', headers: request.headers, body });
    if (!authentication.ok) throw new ServiceError(JSON_SERVICE_AUTHENTICATION_ERRORS[authentication.reason], authentication.message, 403);
  }

  /** IAM's check: `states:<Operation>` on the state machine or execution the call names. */
  private authorize(request: IncomingMessage, operation: string | undefined, input: unknown): void {
    if (!this.iam || operation === undefined) return;
    const named = z.object({ stateMachineArn: z.string().optional(), executionArn: z.string().optional() }).safeParse(input);
    const resource = (named.success && (named.data.stateMachineArn ?? named.data.executionArn)) || '*';
    const decision = this.iam.authorize(accessKeyOfRequest(request.headers, request.url), `states:${operation}`, resource);
    if (!decision.allowed) throw new ServiceError('AccessDeniedException', decision.message);
  }

  private dispatch(operation: string | undefined, body: unknown): unknown {
    switch (operation) {
      case 'StartExecution':
        return this.startExecution(parse(StartExecutionInput, body));
      case 'StopExecution':
        return this.stopExecution(parse(StopExecutionInput, body));
      case 'DescribeExecution':
        return this.describeExecution(parse(DescribeExecutionInput, body));
      case 'DescribeStateMachine':
        return this.describeStateMachine(parse(DescribeStateMachineInput, body));
      default:
        throw new ServiceError('UnknownOperationException', `the local Step Functions does not implement ${operation ?? 'this operation'}`);
    }
  }

  /**
   * Names are unique per state machine, as on AWS: the same name and input while
   * the execution runs answer that execution again (a retried call is
   * idempotent); otherwise a taken name is ExecutionAlreadyExists.
   */
  private startExecution({ stateMachineArn, name = randomUUID(), input = '{}' }: z.infer<typeof StartExecutionInput>) {
    const local = this.machines.get(stateMachineArn);
    if (!local) throw new ServiceError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${stateMachineArn}'`);
    if (!isValidName(name)) throw new ServiceError('InvalidName', `Invalid Name: '${name}'`);
    let parsedInput: unknown;
    try {
      parsedInput = JSON.parse(input);
    } catch {
      throw new ServiceError('InvalidExecutionInput', 'Invalid State Machine Execution Input: the input is not JSON');
    }
    const executionArn = `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
    const existing = this.executions.get(executionArn);
    if (existing) {
      if (existing.status === 'RUNNING' && existing.input === input) return { executionArn, startDate: epochSeconds(existing.startDate) };
      throw new ServiceError('ExecutionAlreadyExists', `Execution Already Exists: '${executionArn}'`);
    }

    const startDate = new Date();
    const run = local.machine.run(parsedInput as never, {
      overrides: { taskResourceLocalHandlers: local.taskHandlers as never },
      context: {
        Execution: { Id: executionArn, Name: name, StartTime: startDate.toISOString() },
        StateMachine: { Id: stateMachineArn, Name: local.source.name },
      },
    });
    const execution: Execution = { executionArn, stateMachineArn, name, input, status: 'RUNNING', startDate, abort: run.abort };
    this.executions.set(executionArn, execution);
    this.statusChanged(execution);
    run.result.then(
      (output) => this.finish(execution, { status: 'SUCCEEDED', output: JSON.stringify(output) }),
      (error: unknown) => this.finish(execution, failureOf(error)),
    );
    return { executionArn, startDate: epochSeconds(startDate) };
  }

  private stopExecution({ executionArn, error, cause }: z.infer<typeof StopExecutionInput>) {
    const execution = this.execution(executionArn);
    if (execution.status === 'RUNNING') this.stop(execution, error, cause);
    return { stopDate: epochSeconds(execution.stopDate ?? new Date()) };
  }

  /** What readiness needs: that the machine exists (its definition is not served). */
  private describeStateMachine({ stateMachineArn }: z.infer<typeof DescribeStateMachineInput>) {
    const local = this.machines.get(stateMachineArn);
    if (!local) throw new ServiceError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${stateMachineArn}'`);
    return { stateMachineArn, name: local.source.name, status: 'ACTIVE', type: 'STANDARD' };
  }

  private describeExecution({ executionArn }: z.infer<typeof DescribeExecutionInput>) {
    const { abort: _abort, startDate, stopDate, ...execution } = this.execution(executionArn);
    return { ...execution, startDate: epochSeconds(startDate), ...(stopDate ? { stopDate: epochSeconds(stopDate) } : {}) };
  }

  private execution(executionArn: string): Execution {
    const execution = this.executions.get(executionArn);
    if (!execution) throw new ServiceError('ExecutionDoesNotExist', `Execution Does Not Exist: '${executionArn}'`);
    return execution;
  }

  /** Like AWS, stopping ends the execution at once; a Lambda it was running is not interrupted. */
  private stop(execution: Execution, error: string | undefined, cause: string | undefined): void {
    this.finish(execution, { status: 'ABORTED', ...(error === undefined ? {} : { error }), ...(cause === undefined ? {} : { cause }) });
    execution.abort();
  }

  /** The event EventBridge gets from Step Functions for every status of an execution. */
  private statusChanged(execution: Execution): void {
    const { executionArn, stateMachineArn, name, status, startDate, stopDate, input, output, error, cause } = execution;
    this.events?.put({
      source: 'aws.states',
      'detail-type': 'Step Functions Execution Status Change',
      resources: [executionArn],
      detail: {
        executionArn,
        stateMachineArn,
        name,
        status,
        startDate: startDate.getTime(),
        stopDate: stopDate?.getTime() ?? null,
        input,
        output: output ?? null,
        error: error ?? null,
        cause: cause ?? null,
      },
    });
  }

  private finish(execution: Execution, outcome: Pick<Execution, 'status' | 'output' | 'error' | 'cause'>): void {
    if (execution.status !== 'RUNNING') return; // already stopped: the library's late rejection changes nothing
    Object.assign(execution, outcome, { stopDate: new Date() });
    this.statusChanged(execution);
    const took = Date.now() - execution.startDate.getTime();
    this.log(`[states] ${execution.name} ${execution.status}${execution.error ? ` ${execution.error}` : ''} ${took}ms`);
  }
}

const StartExecutionInput = z.object({ stateMachineArn: z.string(), name: z.string().optional(), input: z.string().optional() });
const StopExecutionInput = z.object({ executionArn: z.string(), error: z.string().optional(), cause: z.string().optional() });
const DescribeExecutionInput = z.object({ executionArn: z.string() });
const DescribeStateMachineInput = z.object({ stateMachineArn: z.string() });

function parse<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new ServiceError('ValidationException', parsed.error.message);
  return parsed.data;
}

/** Step Functions' name rule: 1-80 characters, no whitespace, wildcards, brackets, control or special characters. */
function isValidName(name: string): boolean {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: execution names may not contain control characters, as on AWS.
  return name.length >= 1 && name.length <= 80 && !/[\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f]/.test(name);
}

function epochSeconds(date: Date): number {
  return date.getTime() / 1000;
}

function failureOf(error: unknown): Pick<Execution, 'status' | 'error' | 'cause'> {
  if (error instanceof ExecutionTimeoutError) return { status: 'TIMED_OUT', error: 'States.Timeout', cause: 'the execution ran past its TimeoutSeconds' };
  if (error instanceof ExecutionAbortedError) return { status: 'ABORTED' };
  const cause = error instanceof ExecutionError && error.cause instanceof Error ? error.cause : error;
  return cause instanceof Error
    ? { status: 'FAILED', error: cause.name, cause: cause.message }
    : { status: 'FAILED', error: 'States.Runtime', cause: String(cause) };
}

// ---------------------------------------------------------------------------
// Lambda tasks

const CRASHES = new Set(['Runtime.ExitError', 'Runtime.OutOfMemory']);
const LAMBDA_INVOKE = /^arn:[^:]+:states:::lambda:invoke$/;
const LAMBDA_FUNCTION = /^arn:[^:]+:lambda:[^:]+:[^:]+:function:/;
const InvokeParameters = z.object({ FunctionName: z.string(), Payload: z.unknown().optional() });

type States = Record<string, Record<string, unknown>>;

/** Every state of a definition, including those inside Parallel branches and Map iterators. */
function allStates(definition: { States: unknown }): [string, Record<string, unknown>][] {
  return Object.entries(definition.States as States).flatMap(([name, state]) => {
    const nested = [...((state.Branches as { States: unknown }[] | undefined) ?? []), state.Iterator, state.ItemProcessor].filter(
      (child): child is { States: unknown } => typeof child === 'object' && child !== null,
    );
    return [[name, state] as [string, Record<string, unknown>], ...nested.flatMap(allStates)];
  });
}

/**
 * Local handlers for the definition's Lambda Task states. The optimised
 * integration (`arn:aws:states:::lambda:invoke`) receives the state's resolved
 * Parameters `{FunctionName, Payload}` and answers what the integration returns,
 * so `OutputPath: "$.Payload"` works; a direct function ARN receives and answers
 * the payload itself. Any other resource fails at start-up: it would otherwise
 * call real AWS.
 */
function lambdaTaskHandlers(definition: StateMachineDefinition, functions: Functions): LocalStateMachine['taskHandlers'] {
  const handlers: LocalStateMachine['taskHandlers'] = {};
  for (const [name, state] of allStates(definition)) {
    if (state.Type !== 'Task') continue;
    const resource = String(state.Resource);
    if (LAMBDA_INVOKE.test(resource)) {
      const parameters = state.Parameters as Record<string, unknown> | undefined;
      if (typeof parameters?.FunctionName === 'string') functions.find(parameters.FunctionName); // fails now if the function is not local
      handlers[name] = async (input) => {
        const { FunctionName, Payload } = InvokeParameters.parse(input);
        return { ExecutedVersion: '$LATEST', Payload: await invokeTask(functions, FunctionName, Payload ?? {}), StatusCode: 200 };
      };
    } else if (LAMBDA_FUNCTION.test(resource)) {
      functions.find(resource);
      handlers[name] = (input) => invokeTask(functions, resource, input);
    } else {
      throw new Error(`state ${name} uses ${resource}; the local stack runs Lambda tasks only`);
    }
  }
  return handlers;
}

/**
 * A failed invocation is re-thrown named by the handler's error type, which is
 * what Retry and Catch match on AWS, with Lambda's error JSON as the cause.
 */
async function invokeTask(functions: Functions, functionName: string, payload: unknown): Promise<unknown> {
  try {
    return await functions.invoke(functionName, payload);
  } catch (error) {
    if (!(error instanceof FunctionError)) throw Object.assign(new Error(String(error)), { name: 'Lambda.ResourceNotFoundException' });
    // An environment that crashed (exit, out of memory) returns no error of the handler's: the state machine sees Lambda.Unknown.
    const name = CRASHES.has(error.errorType) ? 'Lambda.Unknown' : error.errorType;
    throw Object.assign(new Error(JSON.stringify(error.toPayload())), { name });
  }
}
