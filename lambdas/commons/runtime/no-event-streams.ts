/**
 * What the deployment bundles use in place of `@smithy/core/event-streams` (an
 * esbuild alias in lib/app-function.ts `BUNDLING`). Event streams carry the few AWS
 * operations that stream messages (S3 SelectObjectContent, for one); no function
 * here calls any, yet every SDK client reaches the codec through its protocol, and
 * the S3 client configures a marshaller at construction. That code is about 16 KB of
 * every bundle.
 *
 * The exports the SDK's clients import, with the shapes they expect; anything that
 * would actually encode or decode an event stream throws, naming this module.
 * The TypeScript sources (unit tests, scripts) keep the SDK's own module.
 */
function unused(): never {
  throw new Error('event streams are left out of the deployment bundles (lambdas/commons/runtime/no-event-streams.ts)');
}

interface Marshaller {
  serialize(): never;
  deserialize(): never;
}

export const eventStreamSerdeProvider = (): Marshaller => ({ serialize: unused, deserialize: unused });

export const resolveEventStreamSerdeConfig = <T extends { eventStreamSerdeProvider: (input: T) => Marshaller }>(input: T) =>
  Object.assign(input, { eventStreamMarshaller: input.eventStreamSerdeProvider(input) });

export class EventStreamSerde {
  constructor() {
    unused();
  }
}
