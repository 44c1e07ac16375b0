/**
 * The response headers a browser page may read besides the CORS-safelisted ones:
 * `Retry-After` on 429 and 503 answers and `Location` on 202 (docs/openapi.json).
 * Sent by every handler and by every answer API Gateway gives by itself.
 */
export const CORS_EXPOSED_HEADERS = 'Location, Retry-After';
