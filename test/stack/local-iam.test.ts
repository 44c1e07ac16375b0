import { beforeAll, describe, expect, it } from 'vitest';
import { functionsOf, LocalResolver, tablesOf } from '../../local/cloudformation/template.js';
import { evaluate, type FunctionPrincipal, functionPrincipalsOf } from '../../local/iam/policy.js';
import { LOCAL_ACCOUNT } from '../../local/stack.js';
import { defaultTemplate } from './synthesized.js';

/**
 * The offline stack's IAM check reads the real template's roles: these are the
 * grants it must find (so offline calls succeed as they do on AWS) and the ones it
 * must not (so a missing grant fails offline first).
 */
describe('the offline IAM check on the synthesized roles', () => {
  let principals: Map<string, FunctionPrincipal>;
  let resolver: LocalResolver;
  const arn = (logicalIdPrefix: string) => {
    const table = tablesOf(resolver).find((candidate) => candidate.logicalId.startsWith(logicalIdPrefix));
    if (!table) throw new Error(`no table ${logicalIdPrefix}`);
    return resolver.arn(table.logicalId);
  };
  const principal = (prefix: string) => {
    const found = [...principals.values()].find((candidate) => candidate.functionLogicalId.startsWith(prefix));
    if (!found) throw new Error(`no function ${prefix}`);
    return found;
  };
  const may = (fn: string, action: string, resource: string) => evaluate(principal(fn).statements, action, resource);

  beforeAll(async () => {
    resolver = new LocalResolver(defaultTemplate() as unknown as ConstructorParameters<typeof LocalResolver>[0], LOCAL_ACCOUNT);
    const ids = functionsOf(resolver).map((fn) => fn.logicalId);
    principals = new Map(functionPrincipalsOf(resolver, ids, 'seed').map((candidate) => [candidate.functionLogicalId, candidate]));
  });

  it('gives every function distinct credentials', () => {
    const keys = new Set([...principals.values()].map((candidate) => candidate.accessKeyId));
    expect(keys.size).toBe(principals.size);
    for (const key of keys) expect(key).toMatch(/^ASIA[A-Z2-7]{16}$/);
  });

  it('finds the grants each handler uses, resolved to local ARNs', () => {
    const stateMachine = Object.entries(resolver.template.Resources).find(
      ([id, resource]) => resource.Type === 'AWS::StepFunctions::StateMachine' && id.startsWith('Training'),
    )?.[0] as string;
    expect(may('CreateJobFunction', 'states:StartExecution', resolver.arn(stateMachine))).toBe(true);
    expect(may('CreateJobFunction', 'dynamodb:PutItem', arn('StorageJobs'))).toBe(true);
    expect(may('GetJobFunction', 'dynamodb:GetItem', arn('StorageJobs'))).toBe(true);
    expect(may('AuthorizerFunction', 'dynamodb:GetItem', arn('StorageApiKeys'))).toBe(true);
    expect(may('TrainFunction', 'dynamodb:UpdateItem', arn('StorageModels'))).toBe(true);
    const webSocketApi = Object.entries(resolver.template.Resources).find(([, resource]) => resource.Type === 'AWS::ApiGatewayV2::Api')?.[0] as string;
    const connection = `arn:aws:execute-api:${LOCAL_ACCOUNT.region}:${LOCAL_ACCOUNT.accountId}:${resolver.apiId(webSocketApi)}/v1/POST/@connections/abc=`;
    expect(may('RealtimeNotifyFunction', 'execute-api:ManageConnections', connection)).toBe(true);
    expect(may('RealtimeDefaultFunction', 'execute-api:ManageConnections', connection)).toBe(false);
  });

  it('finds no grant a handler was not given', () => {
    const stateMachine = Object.entries(resolver.template.Resources).find(
      ([id, resource]) => resource.Type === 'AWS::StepFunctions::StateMachine' && id.startsWith('Training'),
    )?.[0] as string;
    expect(may('GetJobFunction', 'dynamodb:PutItem', arn('StorageJobs'))).toBe(false);
    expect(may('GetJobFunction', 'dynamodb:GetItem', arn('StorageModels'))).toBe(false);
    expect(may('GetJobFunction', 'dynamodb:PutItem', arn('StorageApiKeys'))).toBe(false);
    expect(may('GetJobFunction', 'states:StartExecution', resolver.arn(stateMachine))).toBe(false);
    expect(may('PredictFunction', 'dynamodb:Scan', arn('StorageModels'))).toBe(false);
    expect(may('CreateJobFunction', 'dynamodb:DeleteItem', arn('StorageJobs'))).toBe(false);
  });
});
