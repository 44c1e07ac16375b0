import { App, Stack } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { describe, expect, it } from 'vitest';
import { addNagChecks } from '../../lib/nag.js';
import { defaultTemplate, Synthesized } from './synthesized.js';

/** Control Tower's proactive controls (cfn-guard) run on every synth beside cdk-nag (lib/nag.ts). */
describe('cfn-guard: Control Tower proactive controls', () => {
  it('passes on the stack, with no Lambda permission for test invocations and a versioned datasets bucket', () => {
    // The run's synth of the stack (test/stack/global-setup.ts) failed the run if a check did not pass.
    const stack = new Synthesized(defaultTemplate());
    const permissions = stack.ofType('AWS::Lambda::Permission').map(([id, permission]) => [id, JSON.stringify(permission.Properties!.SourceArn)]);
    // A test invocation permission accepts any stage (…/test-invoke-stage/…); allowTestInvoke: false removes them all.
    expect(permissions.filter(([id, arn]) => id!.includes('Test') || arn!.includes('test-invoke-stage'))).toEqual([]);
    const bucket = stack
      .ofType('AWS::S3::Bucket')
      .find(([, resource]) => resource.Properties?.NotificationConfiguration !== undefined || JSON.stringify(resource.Properties).includes('datasets-bucket/'));
    expect(bucket?.[1].Properties).toMatchObject({ VersioningConfiguration: { Status: 'Enabled' } });
    expect(JSON.stringify(bucket?.[1].Properties)).toContain('"NoncurrentVersionExpiration":{"NoncurrentDays":1}');
  });

  it('fails the synth on a finding nobody acknowledged, naming the control', () => {
    const app = new App();
    addNagChecks(app);
    const stack = new Stack(app, 'Unreviewed');
    // Everything cdk-nag asks for, but not versioned: only the Control Tower control CT.S3.PR.11 objects.
    const logs = new s3.Bucket(stack, 'Logs', { enforceSSL: true, versioned: true });
    new s3.Bucket(stack, 'Data', { enforceSSL: true, serverAccessLogsBucket: logs });
    expect(() => app.synth()).toThrow(/CT\.S3\.PR\.11/);
  });
});
