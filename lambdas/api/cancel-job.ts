import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { ExecutionDoesNotExist, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { Conflict, NotFound } from '../../src/domain/errors.js';
import { isTerminal, toJobView } from '../../src/domain/jobs.js';
import { JobId } from '../../src/domain/schemas.js';
import * as z from '../../src/domain/zod.js';
import { stepFunctions } from '../commons/clients.js';
import { readEnv } from '../commons/env.js';
import { httpHandler, json, pathId, tenantOf } from '../commons/http.js';
import { logger, metrics } from '../commons/powertools.js';
import { JobStore, Lifecycle, ModelStore } from '../commons/store.js';
import { TenantStore } from '../commons/tenants.js';

const env = readEnv({
  JOBS_TABLE_NAME: z.string().check(z.minLength(1)),
  MODELS_TABLE_NAME: z.string().check(z.minLength(1)),
  TENANTS_TABLE_NAME: z.string().check(z.minLength(1)),
});
const jobs = new JobStore(env.JOBS_TABLE_NAME);
const lifecycle = new Lifecycle(jobs, new ModelStore(env.MODELS_TABLE_NAME), new TenantStore(env.TENANTS_TABLE_NAME));

/**
 * Cancels a QUEUED or RUNNING job: the job (CANCELLED) and its model (FAILED) are
 * written first and conditionally, so the answer is final even if stopping the
 * execution fails; the training Lambda also checks the status before each write
 * and gives up once the job is no longer RUNNING.
 */
export const handler = httpHandler(async (event) => {
  const tenantId = tenantOf(event);
  const job = await jobs.get(tenantId, pathId(event, 'jobId', JobId, 'job'));
  if (!job) throw new NotFound('job');
  const notCancellable = new Conflict('JOB_NOT_CANCELLABLE', `the job is ${job.status}; only QUEUED or RUNNING jobs can be cancelled`);
  if (isTerminal(job.status)) throw notCancellable;

  const finishedAt = new Date().toISOString();
  if (!(await lifecycle.finish(job, 'CANCELLED', { finishedAt }, { status: 'FAILED' }))) {
    throw notCancellable; // it ended between our read and our write
  }
  metrics.addMetric('JobCancelled', MetricUnit.Count, 1);
  try {
    await stepFunctions.send(new StopExecutionCommand({ executionArn: job.executionArn, cause: 'cancelled by the client' }));
  } catch (error) {
    // Not started yet or already over: the conditional writes above keep the job CANCELLED either way.
    if (!(error instanceof ExecutionDoesNotExist)) logger.warn('could not stop the execution', { jobId: job.jobId, error: error as Error });
  }
  // Read back: the version the cancel gave the job is only known once it is written.
  const cancelled = await jobs.get(tenantId, job.jobId);
  return json(202, toJobView(cancelled ?? { ...job, status: 'CANCELLED', finishedAt }));
});
