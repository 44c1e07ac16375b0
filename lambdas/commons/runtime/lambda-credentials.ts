import { type FromEnvInit, fromEnv } from '@aws-sdk/credential-provider-env';

/**
 * What the deployment bundles use in place of `@aws-sdk/credential-provider-node`
 * (an esbuild alias in lib/app-function.ts `BUNDLING`): the credentials in the
 * environment, which is where Lambda hands every function its role's credentials
 * (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), as LocalStack and the
 * offline stack do too. The full default chain (profiles, SSO, STS web identity,
 * instance metadata) is never used in a function but costs about 100 KB of every
 * bundle: its nested STS, SSO and sign-in clients.
 *
 * Same exports as the package it stands in for. The TypeScript sources (unit tests,
 * scripts) keep the SDK's default chain.
 */
type Credentials = Awaited<ReturnType<ReturnType<typeof fromEnv>>>;

export const defaultProvider = (init: FromEnvInit = {}) => fromEnv(init);

export const credentialsWillNeedRefresh = (credentials?: Credentials) => credentials?.expiration !== undefined;

export const credentialsTreatedAsExpired = (credentials?: Credentials) =>
  credentials?.expiration !== undefined && credentials.expiration.getTime() - Date.now() < 300_000;
