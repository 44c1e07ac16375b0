import * as z from '#domain/zod.js';

/**
 * Reads and validates a function's environment once, at cold start. A missing or
 * malformed variable fails the import with the variable's name, not a later
 * `undefined` deep in a request.
 */
export function readEnv<S extends z.core.$ZodShape>(shape: S, source: NodeJS.ProcessEnv = process.env): z.infer<z.ZodMiniObject<S>> {
  const parsed = z.object(shape).safeParse(source);
  if (!parsed.success) {
    const names = parsed.error.issues.map((issue) => issue.path.join('.')).join(', ');
    throw new Error(`Invalid or missing environment variables: ${names}`);
  }
  return parsed.data;
}
