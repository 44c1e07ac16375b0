import path from 'node:path';
import { AssetHashType, DefaultStackSynthesizer, DockerImage, Duration, type IResolveContext, Lazy, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as deployment from 'aws-cdk-lib/aws-s3-deployment';
import { Construct, type IConstruct } from 'constructs';
import { buildConsoleSync, CONSOLE_ROOT } from '../console/build.js';
import { consoleContentSecurityPolicy } from '../console/security-headers.js';
import { acknowledgeGuardFinding, acknowledgeWildcardResource } from './nag.js';

/** The context key that names the bootstrap stack's qualifier (`cdk bootstrap --qualifier`). */
const BOOTSTRAP_QUALIFIER_CONTEXT = '@aws-cdk/core:bootstrapQualifier';

export interface ConsoleProps {
  /** The REST API's base URL (the ApiUrl output): the page calls it cross-origin (the API answers CORS for any origin). */
  readonly apiUrl: string;
  /** The WebSocket API's URL (the WebSocketUrl output), for live job changes. */
  readonly webSocketUrl: string;
  /** The largest CSV upload the API accepts: the page refuses bigger files before sending a byte. */
  readonly maxDatasetBytes: number;
  /** The datasets bucket: the page uploads CSVs straight to it (presigned POST and part URLs). */
  readonly uploadBucket: s3.IBucket;
  /** Where the bucket's server access logs go (the stack's access log bucket). */
  readonly accessLogsBucket: s3.IBucket;
}

/**
 * The console (console/, docs/operations.md "Console") on AWS: its static files in a private
 * bucket that only CloudFront may read (origin access control, no public access,
 * no website endpoint), served over HTTPS. `config.json` beside the page names
 * the stack's APIs; both are written at deploy time by CDK's BucketDeployment,
 * which then invalidates CloudFront's copies.
 */
export class Console extends Construct {
  readonly bucket: s3.Bucket;
  readonly distribution: cloudfront.Distribution;
  /** The console's address: https://<distribution domain>/ */
  readonly url: string;

  constructor(scope: Construct, id: string, props: ConsoleProps) {
    super(scope, id);
    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: props.accessLogsBucket,
      serverAccessLogsPrefix: 'console-bucket/',
      // Versioned (Control Tower CT.S3.PR.11); a deploy replaces every file, so old versions go after a day.
      versioned: true,
      lifecycleRules: [{ noncurrentVersionExpiration: Duration.days(1), expiredObjectDeleteMarker: true }],
      removalPolicy: RemovalPolicy.DESTROY,
      autoDeleteObjects: true,
    });

    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: 'regression-jobs console (static files)',
      defaultRootObject: 'index.html',
      defaultBehavior: {
        origin: origins.S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: this.securityHeaders(props),
        compress: true,
      },
      // North America and Europe's edges only: a personal console needs no more, and it is the cheapest class.
      priceClass: cloudfront.PriceClass.PRICE_CLASS_100,
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
    });
    this.url = `https://${this.distribution.distributionDomainName}/`;

    // The page, built by the project's esbuild at synth (no Docker: the image is never pulled while local bundling succeeds).
    const files = deployment.Source.asset(CONSOLE_ROOT, {
      assetHashType: AssetHashType.OUTPUT,
      bundling: {
        image: DockerImage.fromRegistry('public.ecr.aws/docker/library/node:24-slim'),
        local: {
          tryBundle(outputDir: string) {
            buildConsoleSync(outputDir);
            return true;
          },
        },
      },
      exclude: [path.join('**', 'node_modules')],
    });
    const config = deployment.Source.jsonData('config.json', {
      apiUrl: props.apiUrl,
      webSocketUrl: props.webSocketUrl,
      maxDatasetBytes: props.maxDatasetBytes,
    });
    const deploy = new deployment.BucketDeployment(this, 'Files', {
      sources: [files, config],
      destinationBucket: this.bucket,
      distribution: this.distribution,
      distributionPaths: ['/*'],
      prune: true,
      memoryLimit: 256,
    });

    this.narrowDeploymentGrants(deploy);
    this.acknowledgeFindings(deploy);
  }

  /**
   * CloudFront's managed SECURITY_HEADERS policy plus a Content-Security-Policy that keeps the page from being
   * framed (`frame-ancestors 'none'`) and lets it talk only to this stack's APIs and upload bucket.
   */
  private securityHeaders(props: ConsoleProps): cloudfront.ResponseHeadersPolicy {
    const connectTo = [
      props.apiUrl,
      props.webSocketUrl,
      `https://${props.uploadBucket.bucketRegionalDomainName}`,
      `https://${props.uploadBucket.bucketDomainName}`,
    ];
    return new cloudfront.ResponseHeadersPolicy(this, 'SecurityHeaders', {
      comment: 'regression-jobs console: CSP, no framing, HSTS, nosniff, no referrer',
      securityHeadersBehavior: {
        contentSecurityPolicy: { contentSecurityPolicy: consoleContentSecurityPolicy(connectTo), override: true },
        frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
        contentTypeOptions: { override: true },
        referrerPolicy: { referrerPolicy: cloudfront.HeadersReferrerPolicy.NO_REFERRER, override: true },
        strictTransportSecurity: { accessControlMaxAge: Duration.days(365), includeSubdomains: true, override: true },
        xssProtection: { protection: true, modeBlock: true, override: true },
      },
    });
  }

  /**
   * CDK grants the deploy-time function action families (`s3:GetObject*`, `s3:List*`…); this stack names every
   * action (a stack test checks no statement has a wildcard action). These are the ones it uses to copy the
   * asset's files into the bucket, prune the rest, and abort a failed copy.
   */
  private narrowDeploymentGrants(deploy: deployment.BucketDeployment): void {
    const families: Record<string, string[]> = {
      's3:GetObject*': ['s3:GetObject', 's3:GetObjectVersion', 's3:GetObjectTagging'],
      's3:GetBucket*': ['s3:GetBucketLocation'],
      's3:List*': ['s3:ListBucket', 's3:ListBucketMultipartUploads', 's3:ListMultipartUploadParts'],
      's3:DeleteObject*': ['s3:DeleteObject'],
      's3:Abort*': ['s3:AbortMultipartUpload'],
    };
    const policy = deploy.handlerRole.node.tryFindChild('DefaultPolicy')?.node.defaultChild as iam.CfnPolicy | undefined;
    if (!policy) throw new Error("Console: CDK's BucketDeployment role has no default policy to narrow");
    const original = policy.policyDocument as unknown;
    policy.policyDocument = Lazy.uncachedAny({
      produce: (context: IResolveContext) => {
        const document = context.resolve(original) as { Statement: { Action: string | string[] }[] };
        for (const statement of document.Statement) {
          const actions = [statement.Action].flat().flatMap((action) => families[action] ?? [action]);
          statement.Action = [...new Set(actions)].sort();
        }
        return document;
      },
    });
  }

  private acknowledgeFindings(deploy: deployment.BucketDeployment): void {
    const distribution = Validations.of(this.distribution);
    distribution.acknowledge({
      id: 'AwsSolutions-CFR1',
      reason: 'The console is static files; every call it makes goes to the API, which checks the API key. Geographic restrictions would protect nothing.',
    });
    distribution.acknowledge({
      id: 'AwsSolutions-CFR2',
      reason: 'A WAF web ACL costs a monthly fee for static files that need no filtering; the API behind the page has its own throttling and usage plans.',
    });
    distribution.acknowledge({
      id: 'AwsSolutions-CFR3',
      reason:
        'CloudFront standard logging needs a bucket with ACLs enabled, which this stack disables everywhere; the bucket itself logs every read CloudFront makes.',
    });
    distribution.acknowledge({
      id: 'AwsSolutions-CFR4',
      reason:
        'The distribution uses the default *.cloudfront.net certificate, whose TLS floor CloudFront fixes at TLSv1; a custom domain and certificate would allow TLSv1.2_2021.',
    });
    // The deploy-time function CDK adds for BucketDeployment (a singleton of the stack): its role's parent.
    const handler = deploy.handlerRole.node.scope as IConstruct;
    Validations.of(handler).acknowledge(
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: "CDK's BucketDeployment function runs only at deploy time; the managed policy lets it write its own logs.",
      },
      {
        id: 'AwsSolutions-L1',
        reason:
          "CDK's BucketDeployment function runs on the Python runtime CDK pins for its bundled AWS CLI; it runs only at deploy time, with no input but the stack's.",
      },
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'cloudfront:GetInvalidation and CreateInvalidation, which CDK grants on *; the function only invalidates this distribution.',
      },
    );
    // Named from the stack's own account and region: literal under `cdk synth`/`cdk deploy` (the CLI always sets
    // them), tokens in an environment-agnostic synth. A hand-written `<AWS::AccountId>` matched only the latter.
    const stack = Stack.of(this);
    const qualifier = (stack.node.tryGetContext(BOOTSTRAP_QUALIFIER_CONTEXT) as string | undefined) ?? DefaultStackSynthesizer.DEFAULT_QUALIFIER;
    acknowledgeWildcardResource(
      handler,
      `arn:${stack.partition}:s3:::cdk-${qualifier}-assets-${stack.account}-${stack.region}/*`,
      "The bootstrap assets bucket's objects: the asset's key is known only once it is published.",
    );
    acknowledgeWildcardResource(
      handler,
      this.bucket.arnForObjects('*'),
      'The function writes and prunes the whole console bucket: it holds nothing but the console.',
    );
    for (const [check, reason] of [
      [
        'cloudfront_origin_failover_enabled_check',
        'One origin, the console bucket: a second bucket to fail over to would hold the same files for a page that is only a convenience.',
      ],
      [
        'cloudfront_access_logs_enabled_check',
        'Standard logging needs a log bucket with ACLs enabled, which this stack disables everywhere; the console bucket logs every read CloudFront makes.',
      ],
      [
        'cloudfront_custom_ssl_certificate_check',
        "The console is served on its *.cloudfront.net name with CloudFront's certificate: a custom certificate needs a domain this stack does not assume.",
      ],
      ['cloudfront_sni_enabled_check', 'SNI is configured with a custom certificate; the default *.cloudfront.net certificate has no such setting.'],
      [
        'cloudfront_security_policy_check',
        'The default *.cloudfront.net certificate fixes the TLS floor; a custom domain and certificate (TLSv1.2_2021) would raise it.',
      ],
    ] as const) {
      acknowledgeGuardFinding(this.distribution, check, reason);
    }
    acknowledgeGuardFinding(this.bucket, 's3_event_notifications_enabled_check', 'Nothing reacts to the console files: they change only at deploy time.');
  }
}
