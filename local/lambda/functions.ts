import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';
import type { FunctionDefinition } from '../cloudformation/template.js';

/**
 * The template's functions, run in this process: each handler is imported from
 * its TypeScript source (the `app:entry` hook) and called as the Lambda runtime
 * calls it, with a JSON copy of the event and a Lambda context.
 *
 * All handlers share one process, so they share one `process.env`: every
 * function's environment is merged into it before the first import, and two
 * functions that give one variable different values stop the start-up (see
 * `mergeEnvironments`). Module-scope state (SDK clients, Powertools objects) is
 * shared by concurrent invocations of one function, as it would be if Lambda ran
 * them in one container one after the other; that is enough for handlers that keep
 * nothing per request at module scope.
 */

export type Handler = (event: unknown, context: Context) => unknown;

/** A failed invocation as Lambda reports it: `errorType` is the name of what the handler threw. */
export class FunctionError extends Error {
  constructor(
    readonly errorType: string,
    readonly errorMessage: string,
    readonly trace: string[],
  ) {
    super(errorMessage);
    this.name = errorType;
  }

  /** The JSON Lambda returns for a failed invocation (and Step Functions puts in `Cause`). */
  toPayload(): { errorType: string; errorMessage: string; trace: string[] } {
    return { errorType: this.errorType, errorMessage: this.errorMessage, trace: this.trace };
  }
}

/**
 * The union of every function's environment. A variable two functions set to
 * different values cannot be honoured in one process: fail at start-up, naming it,
 * rather than let one handler silently read another's value.
 */
export function mergeEnvironments(functions: readonly FunctionDefinition[]): Record<string, string> {
  const merged: Record<string, string> = {};
  const setBy: Record<string, string> = {};
  const conflicts: string[] = [];
  for (const fn of functions) {
    for (const [name, value] of Object.entries(fn.environment)) {
      if (name in merged && merged[name] !== value) {
        conflicts.push(`${name} is "${merged[name]}" for ${setBy[name]} but "${value}" for ${fn.logicalId}`);
        continue;
      }
      merged[name] = value;
      setBy[name] = fn.logicalId;
    }
  }
  if (conflicts.length > 0) {
    throw new Error(`the local stack runs every handler in one process, so functions must agree on shared environment variables:\n  ${conflicts.join('\n  ')}`);
  }
  return merged;
}

export class LocalLambdas {
  private readonly handlers = new Map<string, Handler>();

  constructor(
    readonly functions: readonly FunctionDefinition[],
    private readonly projectRoot: string,
  ) {}

  /** Imports every handler, so a missing variable or a broken module fails the start-up, not a request. */
  async load(): Promise<void> {
    for (const fn of this.functions) {
      let module: Record<string, unknown>;
      try {
        module = (await import(pathToFileURL(path.resolve(this.projectRoot, fn.entry)).href)) as Record<string, unknown>;
      } catch (error) {
        throw new Error(`${fn.logicalId} (${fn.entry}) failed to load: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
      }
      const handler = module[fn.exportName];
      if (typeof handler !== 'function') throw new Error(`${fn.entry} does not export a function named ${fn.exportName} (${fn.logicalId})`);
      this.handlers.set(fn.logicalId, handler as Handler);
    }
  }

  /** A function by logical id, name, or ARN (qualified or not), as callers of Lambda may name it. */
  find(reference: string): FunctionDefinition {
    const name = /^arn:[^:]+:lambda:[^:]*:[^:]*:function:([^:]+)/.exec(reference)?.[1] ?? reference.split(':')[0];
    const fn = this.functions.find((candidate) => candidate.logicalId === reference || candidate.name === name);
    if (!fn) throw new Error(`no local function ${reference}`);
    return fn;
  }

  /**
   * Invokes a function like Lambda: the event and the result cross a JSON boundary,
   * an `undefined` result is `null`, and a thrown error or a run past the function's
   * Timeout becomes a FunctionError (`Sandbox.Timedout` for the latter).
   */
  async invoke(reference: string, event: unknown): Promise<unknown> {
    const fn = this.find(reference);
    const handler = this.handlers.get(fn.logicalId);
    if (!handler) throw new Error(`${fn.logicalId} is not loaded`);
    const deadline = Date.now() + fn.timeoutSeconds * 1000;
    const context = lambdaContext(fn, deadline);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new FunctionError('Sandbox.Timedout', `RequestId: ${context.awsRequestId} Error: Task timed out after ${fn.timeoutSeconds.toFixed(2)} seconds`, []),
          ),
        deadline - Date.now(),
      );
    });
    try {
      const result = await Promise.race([Promise.resolve().then(() => handler(jsonCopy(event), context)), timedOut]);
      return result === undefined ? null : jsonCopy(result);
    } catch (error) {
      const failure = error instanceof FunctionError ? error : toFunctionError(error);
      console.error(`[${fn.name}] Invoke Error ${JSON.stringify(failure.toPayload())}`);
      throw failure;
    } finally {
      clearTimeout(timer);
    }
  }
}

function jsonCopy(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value)) as unknown;
}

function toFunctionError(error: unknown): FunctionError {
  if (error instanceof Error) return new FunctionError(error.name, error.message, (error.stack ?? '').split('\n'));
  return new FunctionError('Error', String(error), []);
}

const notSupported = () => {
  throw new Error('callback-style completion (context.done/succeed/fail) is not supported: return a promise');
};

function lambdaContext(fn: FunctionDefinition, deadline: number): Context {
  const awsRequestId = randomUUID();
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: fn.name,
    functionVersion: '$LATEST',
    invokedFunctionArn: fn.arn,
    memoryLimitInMB: String(fn.memorySize),
    awsRequestId,
    logGroupName: `/aws/lambda/${fn.name}`,
    logStreamName: `local/[$LATEST]${awsRequestId.replaceAll('-', '')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: notSupported,
    fail: notSupported,
    succeed: notSupported,
  };
}
