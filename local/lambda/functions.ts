import { randomBytes, randomUUID } from 'node:crypto';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { FunctionDefinition } from '../cloudformation/template.js';
import { now, span } from '../trace.js';

/**
 * Lambda for the offline stack. Each function runs from its deployment bundle
 * (bundles.ts) in execution environments of its own: worker threads, each with
 * its own module state, exactly the environment variables the template gives the
 * function plus those the Lambda runtime sets, and a heap capped at the function's
 * MemorySize. As on Lambda, an environment runs one invocation at a time; a
 * concurrent call gets a new environment (up to `maxEnvironments` per function,
 * beyond which calls wait their turn instead of being throttled: a laptop is not
 * a region), and a warm one
 * is reused. An invocation past the function's Timeout, a crash (an uncaught
 * exception, `process.exit`, running out of memory) or a failed INIT ends that
 * environment; the next call gets a fresh one. Nothing waits on a dead worker.
 */

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

export interface LocalLambdasOptions {
  /** The path of a function's bundle (`index.mjs`). */
  bundleOf(logicalId: string): string;
  /** Everything a function's environments get in `process.env`: the template's variables, credentials, endpoints. */
  environmentOf(fn: FunctionDefinition): Record<string, string>;
  /** Environments one function may have at once (Lambda's own limit is the account's 1,000). @default 10 */
  maxEnvironments?: number;
  region: string;
  log?: (line: string) => void;
}

const RUNTIME = new URL('./runtime.mjs', import.meta.url);
/** Lambda gives INIT at most 10 s. */
const INIT_TIMEOUT_MS = 10_000;

type Message =
  | { type: 'ready' }
  | { type: 'init-error'; error: ReturnType<FunctionError['toPayload']> }
  | { type: 'result'; id: string; payload: string }
  | { type: 'error'; id: string; error: ReturnType<FunctionError['toPayload']> };

interface Pending {
  id: string;
  resolve(value: unknown): void;
  reject(error: FunctionError): void;
}

/** One execution environment: a worker that loads the bundle once and runs one invocation at a time. */
class ExecutionEnvironment {
  readonly ready: Promise<void>;
  dead = false;
  /** Set when the function's bundle changed: the environment ends after its current invocation. */
  retired = false;
  private pending: Pending | undefined;
  private readonly worker: Worker;

  constructor(
    readonly fn: FunctionDefinition,
    bundle: string,
    environment: Record<string, string>,
  ) {
    const logStreamName = `${new Date().toISOString().slice(0, 10).replaceAll('-', '/')}/[$LATEST]${randomBytes(16).toString('hex')}`;
    this.worker = new Worker(RUNTIME, {
      workerData: {
        bundle: new URL(`file://${bundle}`).href,
        exportName: fn.exportName,
        functionName: fn.name,
        functionArn: fn.arn,
        memorySize: fn.memorySize,
        logGroupName: `/aws/lambda/${fn.name}`,
        logStreamName,
      },
      env: { ...environment, AWS_LAMBDA_LOG_STREAM_NAME: logStreamName },
      // The bundle is JavaScript: no TypeScript loader from the stack's own process.
      execArgv: [],
      resourceLimits: { maxOldGenerationSizeMb: fn.memorySize },
    });
    this.ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.end();
        reject(new FunctionError('Sandbox.Timedout', `INIT of ${fn.name} did not finish within ${INIT_TIMEOUT_MS / 1000} seconds`, []));
      }, INIT_TIMEOUT_MS);
      this.worker.on('message', (message: Message) => {
        switch (message.type) {
          case 'ready':
            clearTimeout(timer);
            return resolve();
          case 'init-error':
            clearTimeout(timer);
            this.end();
            return reject(new FunctionError(message.error.errorType, message.error.errorMessage, message.error.trace));
          case 'result':
            return this.settle(message.id, (pending) => pending.resolve(JSON.parse(message.payload) as unknown));
          case 'error':
            return this.settle(message.id, (pending) =>
              pending.reject(new FunctionError(message.error.errorType, message.error.errorMessage, message.error.trace)),
            );
        }
      });
      const crashed = (error: FunctionError) => {
        clearTimeout(timer);
        this.dead = true;
        reject(error);
        const pending = this.pending;
        this.pending = undefined;
        pending?.reject(new FunctionError(error.errorType, `RequestId: ${pending.id} ${error.errorMessage}`, []));
      };
      this.worker.on('error', (error: Error & { code?: string }) =>
        crashed(
          error.code === 'ERR_WORKER_OUT_OF_MEMORY'
            ? new FunctionError('Runtime.OutOfMemory', 'Error: Runtime exited with error: signal: killed', [])
            : new FunctionError('Runtime.ExitError', `Error: Runtime exited with error: ${error.name}: ${error.message}`, []),
        ),
      );
      this.worker.on('exit', (code) => crashed(new FunctionError('Runtime.ExitError', `Error: Runtime exited with error: exit status ${code}`, [])));
    });
    // An environment nobody waits on yet must not turn a failed INIT into an unhandled rejection.
    this.ready.catch(() => undefined);
  }

  /** One invocation: the event crosses a JSON boundary, the result comes back as parsed JSON. */
  async run(event: unknown, timeoutSeconds: number): Promise<unknown> {
    const id = randomUUID();
    const deadline = Date.now() + timeoutSeconds * 1000;
    const traceId = `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${randomBytes(12).toString('hex')};Parent=${randomBytes(8).toString('hex')};Sampled=0`;
    return new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending = undefined;
        this.end();
        reject(new FunctionError('Sandbox.Timedout', `RequestId: ${id} Error: Task timed out after ${timeoutSeconds.toFixed(2)} seconds`, []));
      }, deadline - Date.now());
      const finish =
        <T>(settle: (value: T) => void) =>
        (value: T) => {
          clearTimeout(timer);
          settle(value);
        };
      this.pending = { id, resolve: finish(resolve), reject: finish(reject) };
      this.worker.postMessage({ id, event: JSON.stringify(event ?? null), requestId: id, deadline, traceId });
    });
  }

  end(): void {
    this.dead = true;
    void this.worker.terminate();
  }

  private settle(id: string, settle: (pending: Pending) => void): void {
    const pending = this.pending;
    if (pending?.id !== id) return; // an answer after a timeout: that invocation was already failed
    this.pending = undefined;
    settle(pending);
  }
}

/**
 * The environments of one function, and the calls waiting for one. At most
 * `MAX_CONCURRENT_INITS` of them start at once: on a laptop every INIT shares the
 * same cores, and a burst that started fifty at a time would starve them all past
 * Lambda's 10 s INIT limit. A call that finds none idle waits for whichever comes
 * first, an environment released or a new one allowed to start.
 */
const MAX_CONCURRENT_INITS = 2;

class FunctionPool {
  readonly environments = new Set<ExecutionEnvironment>();
  private readonly inUse = new Set<ExecutionEnvironment>();
  private readonly waiting: ((environment: ExecutionEnvironment) => void)[] = [];
  private initializing = 0;

  constructor(
    readonly fn: FunctionDefinition,
    private readonly create: () => ExecutionEnvironment,
    private readonly max: number,
  ) {}

  /** A warm idle environment, a new one, or the next one released or allowed to start. */
  async acquire(): Promise<ExecutionEnvironment> {
    for (const environment of this.environments) {
      if (!this.inUse.has(environment) && usable(environment)) return this.take(environment);
    }
    if (this.canStart()) return this.take(this.add());
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  release(environment: ExecutionEnvironment): void {
    this.inUse.delete(environment);
    if (!usable(environment)) {
      environment.end();
      this.environments.delete(environment);
    }
    if (usable(environment)) this.waiting.shift()?.(this.take(environment));
    else this.serveWaiting();
  }

  /** Ends idle environments now and busy ones after their invocation: the next call loads the new bundle. */
  retire(): void {
    for (const environment of this.environments) {
      environment.retired = true;
      if (this.inUse.has(environment)) continue;
      environment.end();
      this.environments.delete(environment);
    }
  }

  private canStart(): boolean {
    return this.environments.size < this.max && this.initializing < MAX_CONCURRENT_INITS;
  }

  private serveWaiting(): void {
    while (this.waiting.length > 0 && this.canStart()) this.waiting.shift()?.(this.take(this.add()));
  }

  private take(environment: ExecutionEnvironment): ExecutionEnvironment {
    this.inUse.add(environment);
    return environment;
  }

  private add(): ExecutionEnvironment {
    const environment = this.create();
    this.environments.add(environment);
    this.initializing += 1;
    const initialized = () => {
      this.initializing -= 1;
      this.serveWaiting();
    };
    environment.ready.then(initialized, initialized);
    return environment;
  }
}

function usable(environment: ExecutionEnvironment): boolean {
  return !environment.dead && !environment.retired;
}

export class LocalLambdas {
  private readonly pools = new Map<string, FunctionPool>();
  private readonly log: (line: string) => void;

  constructor(
    readonly functions: readonly FunctionDefinition[],
    private readonly options: LocalLambdasOptions,
  ) {
    this.log = options.log ?? ((line) => console.error(line));
    for (const fn of functions) {
      const create = () => new ExecutionEnvironment(fn, options.bundleOf(fn.logicalId), this.environmentOf(fn));
      this.pools.set(fn.logicalId, new FunctionPool(fn, create, options.maxEnvironments ?? 10));
    }
  }

  /**
   * Starts one environment per function, so the first requests find them warm.
   * A function whose INIT fails is reported here and fails its invocations (as it
   * would on Lambda, where a deployment succeeds and the calls fail).
   */
  async warm(): Promise<void> {
    await Promise.all(
      [...this.pools.values()].map(async (pool) => {
        const environment = await pool.acquire();
        try {
          await environment.ready;
        } catch (error) {
          this.log(`[${pool.fn.name}] INIT failed: ${describe(error)}`);
        } finally {
          pool.release(environment);
        }
      }),
    );
  }

  /** A function by logical id, name, or ARN (qualified or not), as callers of Lambda may name it. */
  find(reference: string): FunctionDefinition {
    const name = /^arn:[^:]+:lambda:[^:]*:[^:]*:function:([^:]+)/.exec(reference)?.[1] ?? reference.split(':')[0];
    const fn = this.functions.find((candidate) => candidate.logicalId === reference || candidate.name === name);
    if (!fn) throw new Error(`no local function ${reference}`);
    return fn;
  }

  /**
   * Invokes a function like Lambda. A thrown error, a failed INIT, a crash or a run
   * past the function's Timeout (`Sandbox.Timedout`) becomes a FunctionError.
   */
  async invoke(reference: string, event: unknown): Promise<unknown> {
    const fn = this.find(reference);
    const pool = this.pools.get(fn.logicalId) as FunctionPool;
    const called = now();
    const environment = await pool.acquire();
    try {
      await environment.ready;
      const running = now();
      span('lambda.wait', called, { end: running, caller: fn.name }); // an environment free (or started) and ready
      try {
        return await environment.run(event, fn.timeoutSeconds);
      } finally {
        span('lambda.run', running, { caller: fn.name });
      }
    } catch (error) {
      const failure = error instanceof FunctionError ? error : new FunctionError('Error', describe(error), []);
      this.log(`[${fn.name}] Invoke Error ${JSON.stringify(failure.toPayload())}`);
      throw failure;
    } finally {
      pool.release(environment);
    }
  }

  /** After a rebuild: the next invocation of these functions starts from the new bundle. */
  reload(logicalIds: readonly string[]): void {
    for (const logicalId of logicalIds) this.pools.get(logicalId)?.retire();
  }

  /** Environments a function has now (what the tests observe of scaling and of ended environments). */
  environmentCount(logicalId: string): number {
    return this.pools.get(logicalId)?.environments.size ?? 0;
  }

  async close(): Promise<void> {
    for (const pool of this.pools.values()) {
      for (const environment of pool.environments) environment.end();
      pool.environments.clear();
    }
  }

  /** What the Lambda runtime sets, around the function's own variables (which win, as on Lambda for non-reserved names). */
  private environmentOf(fn: FunctionDefinition): Record<string, string> {
    const { region } = this.options;
    return {
      PATH: '/usr/local/bin:/usr/bin/:/bin',
      LANG: 'en_US.UTF-8',
      TZ: ':UTC',
      ...this.options.environmentOf(fn),
      AWS_REGION: region,
      AWS_DEFAULT_REGION: region,
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
      AWS_LAMBDA_FUNCTION_NAME: fn.name,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memorySize),
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${fn.name}`,
      // Where the bundle is (Lambda's /var/task); X-Ray's SDK reads it to trace per invocation (_X_AMZN_TRACE_ID).
      LAMBDA_TASK_ROOT: path.dirname(this.options.bundleOf(fn.logicalId)),
      _HANDLER: `index.${fn.exportName}`,
    };
  }
}

function describe(error: unknown): string {
  return error instanceof FunctionError ? `${error.errorType}: ${error.errorMessage}` : error instanceof Error ? error.message : String(error);
}
