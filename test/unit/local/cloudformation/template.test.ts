import { describe, expect, it } from 'vitest';
import {
  authorizerOf,
  functionsOf,
  gatewayResponsesOf,
  LocalResolver,
  outputOf,
  restApiOf,
  stateMachinesOf,
  streamMappingsOf,
  tablesOf,
} from '../../../../local/cloudformation/template.js';
import { account, template } from '../fixtures.js';

const resolver = new LocalResolver(template, account);

describe('local stack: reading the synthesized template', () => {
  it('names tables by their explicit name or logical id, keeping keys, indexes, stream and TTL only', () => {
    const [jobs, keys] = tablesOf(resolver);
    expect(jobs).toEqual({
      logicalId: 'JobsTable',
      tableName: 'JobsTable',
      KeySchema: [
        { AttributeName: 'tenantId', KeyType: 'HASH' },
        { AttributeName: 'jobId', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: expect.any(Array),
      GlobalSecondaryIndexes: [expect.objectContaining({ IndexName: 'byStatus', Projection: { ProjectionType: 'ALL' } })],
      StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
    expect(keys?.tableName).toBe('api-keys');
  });

  it('lists the functions with an app:entry, their handler export, timeout and resolved environment', () => {
    const functions = functionsOf(resolver);
    expect(functions.map((fn) => fn.logicalId)).toEqual(['AuthFn', 'JobsFn', 'TrainFn', 'MarkFailedFn']);
    expect(functions[1]).toEqual({
      logicalId: 'JobsFn',
      name: 'JobsFn',
      arn: 'arn:aws:lambda:eu-west-1:000000000000:function:JobsFn',
      entry: 'lambdas/api/jobs.ts',
      exportName: 'handler',
      timeoutSeconds: 10,
      memorySize: 256,
      environment: {
        JOBS_TABLE_NAME: 'JobsTable',
        STATE_MACHINE_ARN: 'arn:aws:states:eu-west-1:000000000000:stateMachine:Workflow',
        JOBS_TABLE_ARN: 'arn:aws:dynamodb:eu-west-1:000000000000:table/JobsTable',
        LOG_LEVEL: 'INFO',
      },
    });
  });

  it('builds REST routes from the resource tree, with the authorizer and the integrated function', () => {
    const api = restApiOf(resolver);
    expect(api?.stageName).toBe('v1');
    expect(api?.apiId).toMatch(/^[0-9a-f]{10}$/);
    const routes = Object.fromEntries(api?.routes.map((route) => [`${route.httpMethod} ${route.resourcePath}`, route]) ?? []);
    expect(Object.keys(routes).sort()).toEqual([
      'GET /health',
      'GET /jobs',
      'GET /jobs/report',
      'GET /jobs/{jobId}',
      'OPTIONS /jobs',
      'POST /jobs',
      'POST /jobs/{jobId}/cancel',
    ]);
    expect(routes['GET /health']).toMatchObject({ authorizerLogicalId: undefined, integration: { type: 'lambda', functionLogicalId: 'JobsFn' } });
    expect(routes['POST /jobs/{jobId}/cancel']).toMatchObject({ authorizerLogicalId: 'Authorizer' });
    expect(routes['OPTIONS /jobs']?.integration).toEqual({
      type: 'mock',
      statusCode: 204,
      headers: {
        'Access-Control-Allow-Headers': 'Content-Type,Authorization,Idempotency-Key',
        'Access-Control-Allow-Origin': '*',
        'Access-Control-Allow-Methods': 'OPTIONS,GET,POST',
      },
    });
  });

  it('reads the TOKEN authorizer and the gateway responses', () => {
    expect(authorizerOf(resolver, 'Authorizer')).toEqual({
      logicalId: 'Authorizer',
      functionLogicalId: 'AuthFn',
      tokenHeader: 'Authorization',
      ttlSeconds: 300,
      validationExpression: undefined,
    });
    const responses = gatewayResponsesOf(template);
    expect(responses.get('MISSING_AUTHENTICATION_TOKEN')).toEqual({
      statusCode: 404,
      headers: { 'Access-Control-Allow-Origin': '*' },
      template: '{"error":{"code":"NOT_FOUND","message":"no such route"}}',
    });
    expect(responses.get('DEFAULT_4XX')?.statusCode).toBeUndefined();
  });

  it('resolves the state machine definition tokens to local ARNs', () => {
    const [machine] = stateMachinesOf(resolver);
    expect(machine?.arn).toBe('arn:aws:states:eu-west-1:000000000000:stateMachine:Workflow');
    expect(machine?.definition).toMatchObject({
      StartAt: 'Train',
      States: {
        Train: {
          Resource: 'arn:aws:states:::lambda:invoke',
          Parameters: { FunctionName: 'arn:aws:lambda:eu-west-1:000000000000:function:TrainFn', 'Payload.$': '$' },
        },
      },
    });
  });

  it('reads stream mappings and outputs', () => {
    expect(streamMappingsOf(template)).toEqual([
      {
        logicalId: 'StreamMapping',
        tableLogicalId: 'JobsTable',
        functionLogicalId: 'JobsFn',
        batchSize: 10,
        startingPosition: 'LATEST',
        maximumRetryAttempts: 2,
        reportBatchItemFailures: true,
        parallelizationFactor: 4,
        filterCriteria: undefined,
      },
    ]);
    expect(outputOf(resolver, 'ApiKeysTableName')).toBe('api-keys');
  });

  it('resolves Fn::Sub, Fn::Select and Fn::Split, and fails loudly on what it cannot resolve', () => {
    expect(resolver.resolve({ 'Fn::Sub': 'arn:${AWS::Partition}:x:${JobsTable}:${!Literal}' })).toBe('arn:aws:x:JobsTable:${Literal}');
    expect(resolver.resolve({ 'Fn::Sub': ['${A}-${TrainFn.Arn}', { A: { Ref: 'AWS::Region' } }] })).toBe(
      'eu-west-1-arn:aws:lambda:eu-west-1:000000000000:function:TrainFn',
    );
    expect(resolver.resolve({ 'Fn::Select': [1, { 'Fn::Split': ['/', 'a/b/c'] }] })).toBe('b');
    expect(() => resolver.resolve({ 'Fn::GetAtt': ['JobsTable', 'StreamArn'] })).toThrow(/cannot resolve Fn::GetAtt JobsTable.StreamArn/);
    expect(() => resolver.resolve({ 'Fn::ImportValue': 'x' })).toThrow(/cannot resolve Fn::ImportValue/);
    expect(() => resolver.resolve({ Ref: 'Nowhere' })).toThrow(/no resource Nowhere/);
  });
});
