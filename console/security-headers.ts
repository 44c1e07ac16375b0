/**
 * The console's response security headers, sent by CloudFront (lib/console.ts) and by the offline console server
 * (local/console.ts) alike. The page's own `<meta>` policy (index.html) cannot say `frame-ancestors`, so only a
 * header stops another site from framing the page (clickjacking: a framed "Cancel job" button under a decoy).
 */

/**
 * The Content-Security-Policy header: the page's scripts and styles from its own origin only, and its requests
 * only to `connectTo` (the API, the WebSocket API and the datasets bucket's upload endpoint, as URLs or origins).
 */
export function consoleContentSecurityPolicy(connectTo: readonly string[]): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src ${["'self'", ...connectTo].join(' ')}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** Frame blocking for browsers that predate `frame-ancestors`. */
export const CONSOLE_FRAME_OPTIONS = 'DENY';
