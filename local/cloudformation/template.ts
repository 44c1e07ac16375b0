import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { z } from 'zod';

/**
 * Reads what the offline stack needs from the synthesized CloudFormation template:
 * tables, functions, REST routes, the authorizer, gateway responses, state
 * machines and stream mappings. The template is the only source: nothing here
 * names a table, a route or an environment variable of this project.
 *
 * CloudFormation intrinsics (`Ref`, `Fn::GetAtt`, `Fn::Join`, …) are resolved to
 * local names and ARNs by `LocalResolver`; anything it cannot resolve fails loudly
 * at start-up instead of reaching a handler as `[object Object]`.
 */

export interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
  Metadata?: Record<string, unknown>;
}

export interface CfnTemplate {
  Resources: Record<string, CfnResource>;
  Outputs?: Record<string, { Value: unknown }>;
}

/** The account and region every local ARN is built with. */
export interface LocalAccount {
  region: string;
  accountId: string;
}

/** Metadata key the stack puts on every Lambda: the handler's source, relative to the project root. */
export const ENTRY_METADATA = 'app:entry';

/**
 * Synthesizes the app in this process, built exactly as `cdk synth` builds it
 * (lib/app.ts: cdk.json's context, cdk-nag), but without bundling: the local
 * stack runs the handlers from their sources.
 */
export async function synthesizeTemplate(): Promise<CfnTemplate> {
  // Imported on demand: loading aws-cdk-lib takes a second, which then overlaps Java's start-up.
  const { createApp } = await import('../../lib/app.js');
  // cdk-nag reviews the template as on every synth; Control Tower's 237 cfn-guard rules (13 s) are left to
  // `cdk synth`, CI and the stack tests, which check this same template, so a start does not wait for them.
  const { app, stack } = createApp({ skipBundling: true, controlTowerChecks: false });
  try {
    return app.synth().getStackArtifact(stack.artifactId).template as CfnTemplate;
  } finally {
    await rm(app.outdir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------
// Intrinsic functions

const Ref = z.strictObject({ Ref: z.string() });
const GetAtt = z.strictObject({ 'Fn::GetAtt': z.union([z.tuple([z.string(), z.string()]), z.string()]) });

/** The logical id a `Ref` or `Fn::GetAtt` points at, or undefined for anything else. */
export function referencedLogicalId(value: unknown): string | undefined {
  const ref = Ref.safeParse(value);
  if (ref.success) return ref.data.Ref;
  const getAtt = GetAtt.safeParse(value);
  if (!getAtt.success) return undefined;
  const target = getAtt.data['Fn::GetAtt'];
  return typeof target === 'string' ? target.split('.')[0] : target[0];
}

/** Every logical id referenced anywhere inside `value` (e.g. a `Fn::Join`ed integration URI). */
export function referencedLogicalIds(value: unknown): string[] {
  const direct = referencedLogicalId(value);
  if (direct !== undefined) return [direct];
  if (Array.isArray(value)) return value.flatMap(referencedLogicalIds);
  if (value !== null && typeof value === 'object') return Object.values(value).flatMap(referencedLogicalIds);
  return [];
}

/**
 * Local physical names and ARNs for the template's resources, and the resolution
 * of intrinsic functions to them. Tables and functions keep their explicit name
 * when the template sets one, otherwise their logical id (stable across restarts,
 * which matters when `DATA_DIR` keeps the tables).
 */
export class LocalResolver {
  constructor(
    readonly template: CfnTemplate,
    readonly account: LocalAccount,
  ) {}

  resource(logicalId: string, type?: string): CfnResource {
    const resource = this.template.Resources[logicalId];
    if (!resource) throw new Error(`the template has no resource ${logicalId}`);
    if (type !== undefined && resource.Type !== type) throw new Error(`${logicalId} is a ${resource.Type}, not a ${type}`);
    return resource;
  }

  physicalName(logicalId: string): string {
    const resource = this.resource(logicalId);
    const nameProperty = {
      'AWS::DynamoDB::Table': 'TableName',
      'AWS::Lambda::Function': 'FunctionName',
      'AWS::StepFunctions::StateMachine': 'StateMachineName',
      'AWS::S3::Bucket': 'BucketName',
    }[resource.Type];
    const explicit = nameProperty === undefined ? undefined : resource.Properties?.[nameProperty];
    if (explicit !== undefined) return z.string().parse(this.resolve(explicit));
    // Bucket names are lower case, at most 63 characters.
    return resource.Type === 'AWS::S3::Bucket' ? logicalId.toLowerCase().slice(0, 63) : logicalId;
  }

  arn(logicalId: string): string {
    const { region, accountId } = this.account;
    const resource = this.resource(logicalId);
    const name = this.physicalName(logicalId);
    switch (resource.Type) {
      case 'AWS::DynamoDB::Table':
        return `arn:aws:dynamodb:${region}:${accountId}:table/${name}`;
      case 'AWS::Lambda::Function':
        return `arn:aws:lambda:${region}:${accountId}:function:${name}`;
      case 'AWS::StepFunctions::StateMachine':
        return `arn:aws:states:${region}:${accountId}:stateMachine:${name}`;
      case 'AWS::S3::Bucket':
        return `arn:aws:s3:::${name}`;
      default:
        throw new Error(`the local stack has no ARN for ${logicalId} (${resource.Type})`);
    }
  }

  /** A stable, API-Gateway-looking id (10 lowercase characters) for an API: it appears in ARNs and URLs. */
  apiId(logicalId: string): string {
    return createHash('sha256').update(logicalId).digest('hex').slice(0, 10);
  }

  /** Resolves `Ref`, `Fn::GetAtt`, `Fn::Join`, `Fn::Sub`, `Fn::Select` and `Fn::Split` inside `value`. */
  resolve(value: unknown): unknown {
    if (Array.isArray(value)) return value.map((item) => this.resolve(item));
    if (value === null || typeof value !== 'object') return value;
    const entries = Object.entries(value);
    const [intrinsic, argument] = entries.length === 1 ? (entries[0] as [string, unknown]) : [undefined, undefined];
    switch (intrinsic) {
      case 'Ref':
        return this.ref(z.string().parse(argument));
      case 'Fn::GetAtt': {
        const [logicalId, attribute] = typeof argument === 'string' ? argument.split(/\.(.*)/s) : z.tuple([z.string(), z.string()]).parse(argument);
        return this.getAtt(z.string().parse(logicalId), z.string().parse(attribute));
      }
      case 'Fn::Join': {
        const [separator, parts] = z.tuple([z.string(), z.array(z.unknown())]).parse(argument);
        return parts.map((part) => this.resolveString(part)).join(separator);
      }
      case 'Fn::Select': {
        const [index, list] = z.tuple([z.union([z.number(), z.string()]), z.unknown()]).parse(argument);
        const items = z.array(z.unknown()).parse(this.resolve(list));
        return items[Number(index)];
      }
      case 'Fn::Split': {
        const [separator, source] = z.tuple([z.string(), z.unknown()]).parse(argument);
        return this.resolveString(source).split(separator);
      }
      case 'Fn::Sub':
        return this.sub(argument);
      default:
        if (intrinsic?.startsWith('Fn::')) throw new Error(`the local stack cannot resolve ${intrinsic}`);
        return Object.fromEntries(entries.map(([key, item]) => [key, this.resolve(item)]));
    }
  }

  resolveString(value: unknown): string {
    const resolved = this.resolve(value);
    if (typeof resolved === 'string') return resolved;
    if (typeof resolved === 'number' || typeof resolved === 'boolean') return String(resolved);
    throw new Error(`expected a string, got ${JSON.stringify(value)}`);
  }

  private ref(name: string): unknown {
    switch (name) {
      case 'AWS::Region':
        return this.account.region;
      case 'AWS::AccountId':
        return this.account.accountId;
      case 'AWS::Partition':
        return 'aws';
      case 'AWS::URLSuffix':
        return 'amazonaws.com';
    }
    const resource = this.resource(name);
    switch (resource.Type) {
      case 'AWS::DynamoDB::Table':
      case 'AWS::Lambda::Function':
      case 'AWS::S3::Bucket':
        return this.physicalName(name);
      case 'AWS::StepFunctions::StateMachine':
        return this.arn(name);
      case 'AWS::ApiGateway::RestApi':
      case 'AWS::ApiGatewayV2::Api':
        return this.apiId(name);
      default:
        throw new Error(`the local stack cannot resolve Ref ${name} (${resource.Type})`);
    }
  }

  private getAtt(logicalId: string, attribute: string): unknown {
    const resource = this.resource(logicalId);
    if (
      attribute === 'Arn' &&
      ['AWS::DynamoDB::Table', 'AWS::Lambda::Function', 'AWS::StepFunctions::StateMachine', 'AWS::S3::Bucket'].includes(resource.Type)
    ) {
      return this.arn(logicalId);
    }
    if (attribute === 'Name' && resource.Type === 'AWS::StepFunctions::StateMachine') return this.physicalName(logicalId);
    throw new Error(`the local stack cannot resolve Fn::GetAtt ${logicalId}.${attribute} (${resource.Type})`);
  }

  private sub(argument: unknown): string {
    const [text, variables] = typeof argument === 'string' ? [argument, {}] : z.tuple([z.string(), z.record(z.string(), z.unknown())]).parse(argument);
    return text.replace(/\$\{(!?)([^}]*)\}/g, (_, literal: string, name: string) => {
      if (literal) return `\${${name}}`; // `${!Name}` is how Fn::Sub writes a literal `${Name}`
      if (name in variables) return this.resolveString(variables[name as keyof typeof variables]);
      const [logicalId, attribute] = name.split(/\.(.*)/s);
      return this.resolveString(attribute ? { 'Fn::GetAtt': [logicalId, attribute] } : { Ref: logicalId });
    });
  }
}

function resourcesOfType(template: CfnTemplate, type: string): [string, CfnResource][] {
  return Object.entries(template.Resources).filter(([, resource]) => resource.Type === type);
}

// ---------------------------------------------------------------------------
// DynamoDB tables

const KeySchema = z.array(z.object({ AttributeName: z.string(), KeyType: z.enum(['HASH', 'RANGE']) }));
const Projection = z.object({
  ProjectionType: z.enum(['ALL', 'KEYS_ONLY', 'INCLUDE']).optional(),
  NonKeyAttributes: z.array(z.string()).optional(),
});
const SecondaryIndex = z.object({ IndexName: z.string(), KeySchema, Projection });

// Only the properties DynamoDB Local needs; encryption, PITR, tags… are dropped by parsing.
const TableProperties = z.object({
  KeySchema,
  AttributeDefinitions: z.array(z.object({ AttributeName: z.string(), AttributeType: z.enum(['S', 'N', 'B']) })),
  GlobalSecondaryIndexes: z.array(SecondaryIndex).optional(),
  LocalSecondaryIndexes: z.array(SecondaryIndex).optional(),
  StreamSpecification: z.object({ StreamViewType: z.enum(['NEW_IMAGE', 'OLD_IMAGE', 'NEW_AND_OLD_IMAGES', 'KEYS_ONLY']) }).optional(),
  TimeToLiveSpecification: z.object({ AttributeName: z.string(), Enabled: z.boolean() }).optional(),
});

export type TableDefinition = z.infer<typeof TableProperties> & { logicalId: string; tableName: string };

export function tablesOf(resolver: LocalResolver): TableDefinition[] {
  return resourcesOfType(resolver.template, 'AWS::DynamoDB::Table').map(([logicalId, resource]) => ({
    logicalId,
    tableName: resolver.physicalName(logicalId),
    ...TableProperties.parse(resource.Properties),
  }));
}

// ---------------------------------------------------------------------------
// Lambda functions

const FunctionProperties = z.object({
  Handler: z.string().optional(),
  Timeout: z.number().int().positive().default(3),
  MemorySize: z.number().int().positive().default(128),
  Environment: z.object({ Variables: z.record(z.string(), z.unknown()).default({}) }).optional(),
});

export interface FunctionDefinition {
  logicalId: string;
  name: string;
  arn: string;
  /** The handler's TypeScript source, relative to the project root. */
  entry: string;
  /** The exported name the runtime calls (`index.handler` -> `handler`). */
  exportName: string;
  timeoutSeconds: number;
  memorySize: number;
  environment: Record<string, string>;
}

/**
 * The functions that carry the `app:entry` hook. Functions CDK adds by itself
 * (custom resource providers, log retention…) have none: they manage AWS
 * resources the local stack does not have, so they are left out.
 */
export function functionsOf(resolver: LocalResolver): FunctionDefinition[] {
  return resourcesOfType(resolver.template, 'AWS::Lambda::Function').flatMap(([logicalId, resource]) => {
    const entry = resource.Metadata?.[ENTRY_METADATA];
    if (entry === undefined) return [];
    const properties = FunctionProperties.parse(resource.Properties ?? {});
    const handler = properties.Handler ?? 'index.handler';
    const variables = properties.Environment?.Variables ?? {};
    return [
      {
        logicalId,
        name: resolver.physicalName(logicalId),
        arn: resolver.arn(logicalId),
        entry: z.string().min(1).parse(entry),
        exportName: handler.slice(handler.lastIndexOf('.') + 1),
        timeoutSeconds: properties.Timeout,
        memorySize: properties.MemorySize,
        environment: Object.fromEntries(Object.entries(variables).map(([name, value]) => [name, resolver.resolveString(value)])),
      },
    ];
  });
}

// ---------------------------------------------------------------------------
// REST API (API Gateway v1)

/** A literal header value of a mapping (`"'*'"`); anything else is a request mapping the local gateway does not run. */
function literalHeaders(parameters: Record<string, string> | undefined, prefix: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(parameters ?? {})) {
    if (!key.startsWith(prefix)) continue;
    const literal = /^'(.*)'$/s.exec(value);
    if (!literal) throw new Error(`the local gateway only supports literal header mappings, not ${key}: ${value}`);
    headers[key.slice(prefix.length)] = literal[1] as string;
  }
  return headers;
}

const IntegrationProperties = z.object({
  Type: z.enum(['AWS_PROXY', 'MOCK', 'AWS', 'HTTP', 'HTTP_PROXY']),
  Uri: z.unknown().optional(),
  IntegrationResponses: z.array(z.object({ StatusCode: z.coerce.number().int(), ResponseParameters: z.record(z.string(), z.string()).optional() })).optional(),
});

const MethodProperties = z.object({
  HttpMethod: z.string(),
  ResourceId: z.unknown(),
  RestApiId: z.unknown(),
  AuthorizationType: z.string().default('NONE'),
  AuthorizerId: z.unknown().optional(),
  ApiKeyRequired: z.boolean().optional(),
  Integration: IntegrationProperties,
});

export type RouteIntegration = { type: 'lambda'; functionLogicalId: string } | { type: 'mock'; statusCode: number; headers: Record<string, string> };

export interface RouteDefinition {
  /** The resource path with its parameters, e.g. `/jobs/{jobId}`. */
  resourcePath: string;
  resourceLogicalId: string;
  httpMethod: string;
  /** The logical id of the method's Lambda authorizer, when the route needs one. */
  authorizerLogicalId: string | undefined;
  integration: RouteIntegration;
}

export interface RestApiDefinition {
  logicalId: string;
  apiId: string;
  stageName: string;
  routes: RouteDefinition[];
}

/** The one REST API of the template, or undefined if it has none. */
export function restApiOf(resolver: LocalResolver): RestApiDefinition | undefined {
  const { template } = resolver;
  const apis = resourcesOfType(template, 'AWS::ApiGateway::RestApi');
  if (apis.length === 0) return undefined;
  if (apis.length > 1) throw new Error(`the local gateway serves one REST API; the template has ${apis.map(([id]) => id).join(', ')}`);
  const [apiLogicalId] = apis[0] as [string, CfnResource];

  const resources = new Map(
    resourcesOfType(template, 'AWS::ApiGateway::Resource').map(([logicalId, resource]) => [
      logicalId,
      z.object({ ParentId: z.unknown(), PathPart: z.string() }).parse(resource.Properties),
    ]),
  );
  // A resource id is either a Ref to an AWS::ApiGateway::Resource or the API's RootResourceId.
  const pathOf = (resourceId: unknown): string => {
    const logicalId = referencedLogicalId(resourceId);
    const resource = logicalId === undefined ? undefined : resources.get(logicalId);
    if (!resource) return '';
    return `${pathOf(resource.ParentId)}/${resource.PathPart}`;
  };

  const routes = resourcesOfType(template, 'AWS::ApiGateway::Method').map(([, resource]): RouteDefinition => {
    const method = MethodProperties.parse(resource.Properties);
    return {
      resourcePath: pathOf(method.ResourceId) || '/',
      resourceLogicalId: referencedLogicalId(method.ResourceId) ?? apiLogicalId,
      httpMethod: method.HttpMethod.toUpperCase(),
      authorizerLogicalId: method.AuthorizationType === 'CUSTOM' ? referencedLogicalId(method.AuthorizerId) : undefined,
      integration: integrationOf(resolver, method.Integration),
    };
  });

  const stages = resourcesOfType(template, 'AWS::ApiGateway::Stage').map(([, resource]) => z.object({ StageName: z.string() }).parse(resource.Properties));
  return { logicalId: apiLogicalId, apiId: resolver.apiId(apiLogicalId), stageName: stages[0]?.StageName ?? 'local', routes };
}

function integrationOf(resolver: LocalResolver, integration: z.infer<typeof IntegrationProperties>): RouteIntegration {
  if (integration.Type === 'AWS_PROXY') {
    const functionLogicalId = referencedLogicalIds(integration.Uri).find((id) => resolver.template.Resources[id]?.Type === 'AWS::Lambda::Function');
    if (functionLogicalId === undefined)
      throw new Error(`an AWS_PROXY integration does not point at a Lambda of the template: ${JSON.stringify(integration.Uri)}`);
    return { type: 'lambda', functionLogicalId };
  }
  if (integration.Type === 'MOCK') {
    // CDK's CORS preflight: a MOCK integration whose response carries literal headers.
    const response = integration.IntegrationResponses?.[0];
    return { type: 'mock', statusCode: response?.StatusCode ?? 200, headers: literalHeaders(response?.ResponseParameters, 'method.response.header.') };
  }
  throw new Error(`the local gateway does not run ${integration.Type} integrations`);
}

const AuthorizerProperties = z.object({
  Type: z.enum(['TOKEN', 'REQUEST', 'COGNITO_USER_POOLS']),
  AuthorizerUri: z.unknown(),
  IdentitySource: z.string(),
  // API Gateway's default when the property is absent.
  AuthorizerResultTtlInSeconds: z.number().int().min(0).default(300),
  IdentityValidationExpression: z.string().optional(),
});

export interface AuthorizerDefinition {
  logicalId: string;
  functionLogicalId: string;
  /** The request header that carries the token (`method.request.header.Authorization`). */
  tokenHeader: string;
  ttlSeconds: number;
  validationExpression: RegExp | undefined;
}

/** A REST API's TOKEN authorizer; other kinds fail at start-up, since the local gateway cannot run them. */
export function authorizerOf(resolver: LocalResolver, logicalId: string): AuthorizerDefinition {
  const properties = AuthorizerProperties.parse(resolver.resource(logicalId, 'AWS::ApiGateway::Authorizer').Properties);
  const header = /^method\.request\.header\.(.+)$/.exec(properties.IdentitySource)?.[1];
  if (properties.Type !== 'TOKEN' || header === undefined) {
    throw new Error(`the local gateway supports TOKEN authorizers on a header; ${logicalId} is ${properties.Type} on ${properties.IdentitySource}`);
  }
  const functionLogicalId = referencedLogicalIds(properties.AuthorizerUri).find((id) => resolver.template.Resources[id]?.Type === 'AWS::Lambda::Function');
  if (functionLogicalId === undefined) throw new Error(`authorizer ${logicalId} does not point at a Lambda of the template`);
  return {
    logicalId,
    functionLogicalId,
    tokenHeader: header,
    ttlSeconds: properties.AuthorizerResultTtlInSeconds,
    validationExpression: properties.IdentityValidationExpression === undefined ? undefined : new RegExp(`^(?:${properties.IdentityValidationExpression})$`),
  };
}

const GatewayResponseProperties = z.object({
  ResponseType: z.string(),
  StatusCode: z.coerce.number().int().optional(),
  ResponseParameters: z.record(z.string(), z.string()).optional(),
  ResponseTemplates: z.record(z.string(), z.string()).optional(),
});

export interface GatewayResponseDefinition {
  statusCode: number | undefined;
  headers: Record<string, string>;
  /** The `application/json` mapping template, if the stack gives one. */
  template: string | undefined;
}

/** The stack's customised gateway responses, by response type (`UNAUTHORIZED`, `DEFAULT_4XX`, …). */
export function gatewayResponsesOf(template: CfnTemplate): Map<string, GatewayResponseDefinition> {
  return new Map(
    resourcesOfType(template, 'AWS::ApiGateway::GatewayResponse').map(([, resource]) => {
      const properties = GatewayResponseProperties.parse(resource.Properties);
      return [
        properties.ResponseType,
        {
          statusCode: properties.StatusCode,
          headers: literalHeaders(properties.ResponseParameters, 'gatewayresponse.header.'),
          template: properties.ResponseTemplates?.['application/json'],
        },
      ];
    }),
  );
}

// ---------------------------------------------------------------------------
// Step Functions

const StateMachineProperties = z.object({
  DefinitionString: z.unknown().optional(),
  Definition: z.record(z.string(), z.unknown()).optional(),
  DefinitionSubstitutions: z.record(z.string(), z.unknown()).optional(),
});

export interface StateMachineDefinitionSource {
  logicalId: string;
  name: string;
  arn: string;
  /** The Amazon States Language definition with every token resolved to local ARNs. */
  definition: Record<string, unknown>;
}

export function stateMachinesOf(resolver: LocalResolver): StateMachineDefinitionSource[] {
  return resourcesOfType(resolver.template, 'AWS::StepFunctions::StateMachine').map(([logicalId, resource]) => {
    const properties = StateMachineProperties.parse(resource.Properties);
    let text = properties.Definition ? JSON.stringify(resolver.resolve(properties.Definition)) : resolver.resolveString(properties.DefinitionString);
    for (const [name, value] of Object.entries(properties.DefinitionSubstitutions ?? {})) {
      text = text.replaceAll(`\${${name}}`, resolver.resolveString(value));
    }
    return {
      logicalId,
      name: resolver.physicalName(logicalId),
      arn: resolver.arn(logicalId),
      definition: z.record(z.string(), z.unknown()).parse(JSON.parse(text)),
    };
  });
}

// ---------------------------------------------------------------------------
// DynamoDB stream -> Lambda event source mappings

const EventSourceMappingProperties = z.object({
  FunctionName: z.unknown(),
  EventSourceArn: z.unknown(),
  BatchSize: z.number().int().positive().default(100),
  StartingPosition: z.enum(['LATEST', 'TRIM_HORIZON']).default('LATEST'),
  // -1 (the default) is "until the record expires"; the local stack keeps retrying.
  MaximumRetryAttempts: z.number().int().min(-1).default(-1),
  FunctionResponseTypes: z.array(z.string()).default([]),
  ParallelizationFactor: z.number().int().min(1).max(10).default(1),
  Enabled: z.boolean().default(true),
  FilterCriteria: z.unknown().optional(),
});

export interface StreamMappingDefinition {
  logicalId: string;
  tableLogicalId: string;
  functionLogicalId: string;
  batchSize: number;
  startingPosition: 'LATEST' | 'TRIM_HORIZON';
  maximumRetryAttempts: number;
  reportBatchItemFailures: boolean;
  /** Concurrent batches per shard; records of one partition key stay in one, in order. */
  parallelizationFactor: number;
  filterCriteria: unknown;
}

/** Enabled mappings from a DynamoDB table's stream to a Lambda of the template. */
export function streamMappingsOf(template: CfnTemplate): StreamMappingDefinition[] {
  return resourcesOfType(template, 'AWS::Lambda::EventSourceMapping').flatMap(([logicalId, resource]) => {
    const properties = EventSourceMappingProperties.parse(resource.Properties);
    const tableLogicalId = referencedLogicalId(properties.EventSourceArn);
    if (tableLogicalId === undefined || template.Resources[tableLogicalId]?.Type !== 'AWS::DynamoDB::Table' || !properties.Enabled) return [];
    const functionLogicalId = referencedLogicalId(properties.FunctionName);
    if (functionLogicalId === undefined) throw new Error(`event source mapping ${logicalId} does not point at a Lambda of the template`);
    return [
      {
        logicalId,
        tableLogicalId,
        functionLogicalId,
        batchSize: properties.BatchSize,
        startingPosition: properties.StartingPosition,
        maximumRetryAttempts: properties.MaximumRetryAttempts,
        reportBatchItemFailures: properties.FunctionResponseTypes.includes('ReportBatchItemFailures'),
        parallelizationFactor: properties.ParallelizationFactor,
        filterCriteria: properties.FilterCriteria,
      },
    ];
  });
}

/** A stack output resolved to its local value (e.g. `ApiKeysTableName` -> the local table name). */
export function outputOf(resolver: LocalResolver, name: string): string | undefined {
  const output = resolver.template.Outputs?.[name];
  return output === undefined ? undefined : resolver.resolveString(output.Value);
}
