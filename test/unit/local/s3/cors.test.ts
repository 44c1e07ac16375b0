import { describe, expect, it } from 'vitest';
import { type CorsRule, corsHeadersFor } from '../../../../local/s3/front.js';

/** The offline S3's CORS answers (local/s3/front.ts), from a bucket's CorsConfiguration as S3 matches it. */
const DATASETS: CorsRule[] = [{ AllowedMethods: ['POST'], AllowedOrigins: ['*'], AllowedHeaders: ['*'], MaxAge: 3000 }];
const NAMED: CorsRule[] = [{ AllowedMethods: ['GET', 'POST'], AllowedOrigins: ['https://*.example.com'], AllowedHeaders: ['content-type'] }];

describe('corsHeadersFor', () => {
  it("answers the datasets bucket's rule for a browser's upload preflight from any origin", () => {
    expect(corsHeadersFor(DATASETS, 'http://127.0.0.1:4002', 'POST', ['content-type'])).toEqual({
      'Access-Control-Allow-Origin': '*',
      'Access-Control-Allow-Methods': 'POST',
      'Access-Control-Allow-Headers': 'content-type',
      'Access-Control-Max-Age': '3000',
      Vary: 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method',
    });
  });

  it('refuses a method the rules do not allow, and a bucket without rules', () => {
    expect(corsHeadersFor(DATASETS, 'http://127.0.0.1:4002', 'PUT')).toBeUndefined();
    expect(corsHeadersFor(undefined, 'http://127.0.0.1:4002', 'POST')).toBeUndefined();
    expect(corsHeadersFor([], 'http://127.0.0.1:4002', 'POST')).toBeUndefined();
  });

  it('matches an origin with one wildcard and echoes it, and headers case-insensitively', () => {
    expect(corsHeadersFor(NAMED, 'https://console.example.com', 'GET', ['Content-Type'])?.['Access-Control-Allow-Origin']).toBe('https://console.example.com');
    expect(corsHeadersFor(NAMED, 'https://example.org', 'GET')).toBeUndefined();
    expect(corsHeadersFor(NAMED, 'https://console.example.com', 'GET', ['authorization'])).toBeUndefined();
  });
});
