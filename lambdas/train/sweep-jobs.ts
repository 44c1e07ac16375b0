import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { DescribeExecutionCommand, ExecutionAlreadyExists, ExecutionDoesNotExist, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { paginateScan } from '@aws-sdk/lib-dynamodb';
import { Lifecycle } from '#commons/jobs/store.js';
import { backgroundDocuments, documents, stepFunctions } from '#commons/runtime/clients.js';
import { readEnv } from '#commons/runtime/env.js';
import { eventHandler, logger, metrics } from '#commons/runtime/powertools.js';
import { executionArnOf, JOB_STATUSES } from '#domain/jobs.js';
import { JobId, TenantId } from '#domain/schemas.js';
import { type ExecutionStatus, SWEEP_START_FAILED, type SweepAction, sweepAction } from '#domain/sweep.js';
import * as z from '#domain/zod.js';

/**
 * The sweeper, run on a schedule (lib/regression-stack.ts): finds every QUEUED or
 * RUNNING job, asks Step Functions about its execution (named by the job id), and
 * starts a job stranded before its start or fails one whose execution ended without
 * settling it (src/domain/sweep.ts decides which). The failure table in docs/design.md lists
 * the cases.
 *
 * It scans the jobs table: the status index is keyed per tenant, and a sweep every
 * few minutes over a personal stack's jobs reads little (only active jobs are
 * returned, with six attributes each).
 */
const env = readEnv({
  JOBS_TABLE_NAME: z.string().check(z.minLength(1)),
  MODELS_TABLE_NAME: z.string().check(z.minLength(1)),
  TENANTS_TABLE_NAME: z.string().check(z.minLength(1)),
  STATE_MACHINE_ARN: z.string().check(z.startsWith('arn:')),
  SWEEP_QUEUED_GRACE_SECONDS: z._default(z.coerce.number().check(z.int(), z.gte(0)), 300),
});
// Failing a job gives its tenant's active-job slot back in the same transaction (lambdas/commons/jobs/tenants.ts).
const lifecycle = Lifecycle.onTables({ jobs: env.JOBS_TABLE_NAME, models: env.MODELS_TABLE_NAME, tenants: env.TENANTS_TABLE_NAME }, backgroundDocuments);

const ActiveJob = z.object({ tenantId: TenantId, jobId: JobId, modelId: z.string(), status: z.enum(JOB_STATUSES), createdAt: z.string() });
type ActiveJob = z.infer<typeof ActiveJob>;

async function executionStatus(jobId: string): Promise<ExecutionStatus | undefined> {
  try {
    const { status } = await stepFunctions.send(new DescribeExecutionCommand({ executionArn: executionArnOf(env.STATE_MACHINE_ARN, jobId) }));
    return status as ExecutionStatus;
  } catch (error) {
    if (error instanceof ExecutionDoesNotExist) return undefined;
    throw error;
  }
}

async function* activeJobs(): AsyncGenerator<ActiveJob> {
  const pages = paginateScan(
    { client: documents },
    {
      TableName: env.JOBS_TABLE_NAME,
      FilterExpression: '#status IN (:queued, :running)',
      ProjectionExpression: 'tenantId, jobId, modelId, #status, createdAt',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':queued': 'QUEUED', ':running': 'RUNNING' },
    },
  );
  for await (const page of pages) {
    for (const item of page.Items ?? []) {
      const job = ActiveJob.safeParse(item);
      if (job.success) yield job.data;
      else logger.warn('skipped a job item the sweeper cannot read', { issues: job.error.issues.map((issue) => issue.path.join('.')) });
    }
  }
}

async function settle(job: ActiveJob, decision: SweepAction): Promise<'started' | 'failed' | 'left'> {
  if (decision.action === 'leave') return 'left';
  if (decision.action === 'start') {
    try {
      const input = JSON.stringify({ tenantId: job.tenantId, jobId: job.jobId });
      await stepFunctions.send(new StartExecutionCommand({ stateMachineArn: env.STATE_MACHINE_ARN, name: job.jobId, input }));
      logger.info('started a stranded job', { jobId: job.jobId });
      return 'started';
    } catch (error) {
      // Someone (a retried POST /jobs) started it in the meantime: the execution will move the job on.
      if (error instanceof ExecutionAlreadyExists) return 'left';
      logger.error('could not start a stranded job', { jobId: job.jobId, error: error as Error });
      decision = { action: 'fail', error: SWEEP_START_FAILED };
    }
  }
  const finished = await lifecycle.finish(job, 'FAILED', { error: decision.error, finishedAt: new Date().toISOString() }, { status: 'FAILED' });
  if (finished) logger.info('failed a stranded job', { jobId: job.jobId, code: decision.error.code });
  return finished ? 'failed' : 'left';
}

export interface SweepSummary {
  active: number;
  started: number;
  failed: number;
}

export async function sweepJobs(now: Date = new Date()): Promise<SweepSummary> {
  const summary: SweepSummary = { active: 0, started: 0, failed: 0 };
  for await (const job of activeJobs()) {
    summary.active++;
    const policy = { queuedGraceMs: env.SWEEP_QUEUED_GRACE_SECONDS * 1000, now };
    // A QUEUED job within its grace is left as it is, without asking Step Functions.
    if (job.status === 'QUEUED' && now.getTime() - Date.parse(job.createdAt) < policy.queuedGraceMs) continue;
    const decision = sweepAction(job, await executionStatus(job.jobId), policy);
    const outcome = await settle(job, decision);
    if (outcome === 'started') summary.started++;
    if (outcome === 'failed') summary.failed++;
  }
  metrics.addMetric('StrandedJobsStarted', MetricUnit.Count, summary.started);
  metrics.addMetric('StrandedJobsFailed', MetricUnit.Count, summary.failed);
  logger.info('sweep done', { ...summary });
  return summary;
}

export const handler = eventHandler(async () => sweepJobs());
