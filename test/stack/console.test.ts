import { beforeAll, describe, expect, it } from 'vitest';
import { defaultTemplate, flatten, type Json, Synthesized } from './synthesized.js';

/**
 * The console as `cdk synth` builds it (lib/console.ts, cdk-nag and the Control
 * Tower checks included): a private bucket only CloudFront reads, through origin
 * access control, over HTTPS; its files and config.json written at deploy time.
 */
let stack: Synthesized;
let bucketId: string;
let distributionId: string;

beforeAll(() => {
  // Synthesized once for the run, cdk-nag and cfn-guard included (test/stack/global-setup.ts).
  stack = new Synthesized(defaultTemplate());
  [distributionId] = stack.ofType('AWS::CloudFront::Distribution').map(([id]) => id) as [string];
  bucketId = stack.ofType('AWS::S3::Bucket').find(([id]) => id.startsWith('ConsoleBucket'))?.[0] as string;
});

const distributionConfig = () => stack.resources[distributionId]!.Properties!.DistributionConfig as Record<string, Json>;
const bucketStatements = () =>
  (
    stack.ofType('AWS::S3::BucketPolicy').find(([, policy]) => (policy.Properties!.Bucket as { Ref: string }).Ref === bucketId)![1].Properties!
      .PolicyDocument as { Statement: Record<string, Json>[] }
  ).Statement;

describe('console', () => {
  it('is one distribution, whose URL is the ConsoleUrl output', () => {
    expect(stack.ofType('AWS::CloudFront::Distribution')).toHaveLength(1);
    expect(flatten(stack.template.Outputs.ConsoleUrl!.Value)).toBe(`https://<${distributionId}.DomainName>/`);
  });

  it('keeps its files in a private, encrypted bucket whose reads are logged', () => {
    expect(stack.resources[bucketId]!.Properties).toMatchObject({
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      LoggingConfiguration: { LogFilePrefix: 'console-bucket/' },
    });
    expect(stack.resources[bucketId]!.Properties!.WebsiteConfiguration).toBeUndefined();
  });

  it('lets only this distribution read the bucket (origin access control, signed requests), and only over TLS', () => {
    const origin = (distributionConfig().Origins as Record<string, Json>[])[0] as Record<string, Json>;
    expect(flatten(origin.DomainName)).toBe(`<${bucketId}.RegionalDomainName>`);
    expect(origin.S3OriginConfig).toEqual({ OriginAccessIdentity: '' });
    const oacId = (origin.OriginAccessControlId as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0] as string;
    expect(stack.resources[oacId]!.Properties!.OriginAccessControlConfig).toMatchObject({
      OriginAccessControlOriginType: 's3',
      SigningBehavior: 'always',
      SigningProtocol: 'sigv4',
    });

    const reads = bucketStatements().filter((statement) => statement.Principal?.Service === 'cloudfront.amazonaws.com');
    expect(reads).toHaveLength(1);
    expect(reads[0]).toMatchObject({ Effect: 'Allow', Action: 's3:GetObject' });
    expect(flatten(reads[0]!.Resource)).toBe(`<${bucketId}.Arn>/*`);
    expect(flatten(reads[0]!.Condition.StringEquals['AWS:SourceArn'])).toBe(
      `arn:<AWS::Partition>:cloudfront::<AWS::AccountId>:distribution/<${distributionId}>`,
    );
    // Nothing else may read: the other Allows are the deploy-time functions' (BucketDeployment, auto-delete), by role.
    const others = bucketStatements().filter((statement) => statement.Effect === 'Allow' && statement !== reads[0]);
    expect(others.every((statement) => statement.Principal?.AWS !== undefined && statement.Principal.AWS !== '*')).toBe(true);
    expect(bucketStatements()).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
  });

  it('serves index.html over HTTPS only (HTTP redirects), GET and HEAD, compressed, with security headers', () => {
    expect(distributionConfig()).toMatchObject({
      DefaultRootObject: 'index.html',
      DefaultCacheBehavior: {
        ViewerProtocolPolicy: 'redirect-to-https',
        AllowedMethods: ['GET', 'HEAD'],
        Compress: true,
      },
    });
  });

  it('answers with headers that forbid framing the page anywhere and let it call only this stack', () => {
    const [policyId, policy] = stack.only('AWS::CloudFront::ResponseHeadersPolicy');
    expect((distributionConfig().DefaultCacheBehavior as Record<string, Json>).ResponseHeadersPolicyId).toEqual({ Ref: policyId });
    const headers = (policy.Properties!.ResponseHeadersPolicyConfig as { SecurityHeadersConfig: Record<string, Record<string, Json>> }).SecurityHeadersConfig;
    expect(headers.FrameOptions).toEqual({ FrameOption: 'DENY', Override: true });
    expect(headers.ContentTypeOptions).toEqual({ Override: true });
    expect(headers.StrictTransportSecurity).toMatchObject({ AccessControlMaxAgeSec: 365 * 86_400, Override: true });
    const csp = flatten(headers.ContentSecurityPolicy!.ContentSecurityPolicy).split('; ');
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("script-src 'self'");
    // The REST API, the WebSocket API and the datasets bucket (the page uploads to it), and nothing else.
    const connect = csp
      .find((directive) => directive.startsWith('connect-src '))!
      .split(' ')
      .slice(1);
    expect(connect).toHaveLength(5);
    expect(connect[0]).toBe("'self'");
    expect(connect[1]).toMatch(/^https:\/\/<\w+>\.execute-api\./);
    expect(connect[2]).toMatch(/^wss:\/\/<\w+>\.execute-api\./);
    expect(connect[3]).toMatch(/^https:\/\/<DatasetsBucket\w+\.RegionalDomainName>$/);
    expect(connect[4]).toMatch(/^https:\/\/<DatasetsBucket\w+\.DomainName>$/);
  });

  it('writes the page and a config.json naming both APIs at deploy time, then invalidates the cached copies', () => {
    const deployment = stack.ofType('Custom::CDKBucketDeployment')[0]?.[1] as { Properties: Record<string, Json> };
    expect(deployment.Properties.DestinationBucketName).toEqual({ Ref: bucketId });
    expect(deployment.Properties.DistributionId).toEqual({ Ref: distributionId });
    expect(deployment.Properties.DistributionPaths).toEqual(['/*']);
    expect(deployment.Properties.Prune).toBe(true);
    expect(deployment.Properties.SourceObjectKeys).toHaveLength(2); // the built files, and config.json
    const markers = Object.values(deployment.Properties.SourceMarkers[1] as Record<string, unknown>).map((value) => JSON.stringify(value));
    expect(markers).toContainEqual(expect.stringContaining('"Ref":"HttpApi')); // the REST API in apiUrl
    expect(markers).toContainEqual(expect.stringContaining('"Ref":"RealtimeWebSocketApi')); // the WebSocket API in webSocketUrl
  });
});
