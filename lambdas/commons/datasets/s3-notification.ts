import * as z from '#domain/zod.js';

/** The part of an S3 event notification the dataset functions read. */
export const S3Notification = z.object({
  Records: z.array(
    z.object({
      eventName: z.string(),
      s3: z.object({
        bucket: z.object({ name: z.string().check(z.minLength(1)) }),
        // Keys arrive URL-encoded, with '+' for spaces.
        object: z.object({
          key: z.pipe(
            z.string(),
            z.transform((key: string) => decodeURIComponent(key.replaceAll('+', ' '))),
          ),
        }),
      }),
    }),
  ),
});
export type S3Notification = z.infer<typeof S3Notification>;
