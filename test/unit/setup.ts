/**
 * Runs before every unit test file: registers the aws-sdk-client-mock matchers
 * (toHaveReceivedCommandWith, …) and sets the environment the handlers read at
 * import, so a test file can import a handler statically. Values are assigned,
 * not defaulted, so a developer's shell (a local stack's table names, a real
 * AWS profile) can never leak into a unit test.
 */
import 'aws-sdk-client-mock-vitest/extend';

Object.assign(process.env, {
  JOBS_TABLE_NAME: 'jobs-table',
  JOB_EVENTS_TABLE_NAME: 'job-events-table',
  MODELS_TABLE_NAME: 'models-table',
  TENANTS_TABLE_NAME: 'tenants-table',
  API_KEYS_TABLE_NAME: 'api-keys-table',
  USAGE_IDENTIFIER_PREFIX: 'RegressionJobs-tenant-',
  DATASETS_TABLE_NAME: 'datasets-table',
  DATASETS_BUCKET_NAME: 'datasets-bucket',
  STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:123456789012:stateMachine:Training',
  RETENTION_DAYS: '30',
  APP_VERSION: '1.2.3-test',
  AWS_REGION: 'us-east-1',
  // Dummy credentials: every client is mocked, but the SDK resolves credentials before `send` reaches a mock in some paths.
  AWS_ACCESS_KEY_ID: 'AKIDUNITTEST',
  AWS_SECRET_ACCESS_KEY: 'unit-test-secret',
  AWS_SESSION_TOKEN: 'unit-test-session',
  POWERTOOLS_SERVICE_NAME: 'regression-jobs',
  POWERTOOLS_METRICS_NAMESPACE: 'RegressionJobs',
  POWERTOOLS_METRICS_DISABLED: 'true',
  POWERTOOLS_TRACE_ENABLED: 'false',
  POWERTOOLS_LOG_LEVEL: process.env.UNIT_LOG_LEVEL ?? 'SILENT',
});
// A shell pointing the SDK at a local stack must not matter: every call here goes to a mock.
delete process.env.AWS_ENDPOINT_URL;
delete process.env.AWS_PROFILE;
