import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../lib/app.js';
import { restAuthorizerMode } from '../../lib/without-authorizer.js';
import { type CfnTemplate, defaultTemplate, Synthesized } from './synthesized.js';

/** `-c restAuthorizer=none`: the stack LocalStack's free edition can deploy (docs/testing.md, LocalStack). */

function synth(restAuthorizer: 'none'): Synthesized {
  const { app, stack } = createApp({ skipBundling: true, restAuthorizer });
  app.synth(); // cdk-nag: an unacknowledged finding throws here
  return new Synthesized(Template.fromStack(stack).toJSON() as CfnTemplate);
}

const authorizations = (stack: Synthesized) =>
  stack
    .ofType('AWS::ApiGateway::Method')
    .map(([, method]) => [method.Properties!.AuthorizationType, method.Properties!.AuthorizerId === undefined ? 'no authorizer' : 'authorizer'].join(' '))
    .sort();

describe('the REST API without its authorizer', () => {
  it('deploys every method without the authorizer, passes cdk-nag, and leaves everything else as it is', () => {
    const usual = new Synthesized(defaultTemplate());
    const bare = synth('none');
    const custom = authorizations(usual).filter((line) => line === 'CUSTOM authorizer').length;
    expect(custom).toBeGreaterThanOrEqual(9);
    expect(authorizations(bare)).toEqual(authorizations(usual).map((line) => (line === 'CUSTOM authorizer' ? 'NONE no authorizer' : line)));
    // The authorizer itself stays (LocalStack skips the unsupported type); only methods change.
    expect(Object.keys(bare.resources).sort()).toEqual(Object.keys(usual.resources).sort());
    expect(bare.ofType('AWS::ApiGateway::Authorizer')).toHaveLength(1);
    // No authorizer, no usage identifier: no method may require one, or API Gateway would refuse them all (403).
    expect(bare.ofType('AWS::ApiGateway::Method').filter(([, method]) => method.Properties!.ApiKeyRequired === true)).toEqual([]);
    expect(usual.ofType('AWS::ApiGateway::Method').filter(([, method]) => method.Properties!.ApiKeyRequired === true)).toHaveLength(custom);
  });

  it('reads -c restAuthorizer=none from the context, and refuses any other value than lambda or none', () => {
    const previous = process.env.CDK_CONTEXT_JSON;
    try {
      process.env.CDK_CONTEXT_JSON = JSON.stringify({ restAuthorizer: 'none' });
      expect(authorizations(new Synthesized(Template.fromStack(createApp({ skipBundling: true }).stack).toJSON() as CfnTemplate))).not.toContain(
        'CUSTOM authorizer',
      );
      process.env.CDK_CONTEXT_JSON = JSON.stringify({ restAuthorizer: 'off' });
      expect(() => createApp({ skipBundling: true })).toThrow(/restAuthorizer must be "lambda" or "none"/);
    } finally {
      if (previous === undefined) delete process.env.CDK_CONTEXT_JSON;
      else process.env.CDK_CONTEXT_JSON = previous;
    }
    expect(restAuthorizerMode(undefined)).toBe('lambda');
    expect(restAuthorizerMode('lambda')).toBe('lambda');
    expect(restAuthorizerMode('none')).toBe('none');
  });
});
