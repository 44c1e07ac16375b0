import type { APIGatewayProxyResult } from 'aws-lambda';
import document from '../../docs/openapi.json' with { type: 'json' };

/**
 * `GET /openapi.json`, without auth: the committed OpenAPI document, bundled into
 * the function (nothing else is imported, so the bundle is the document and a few
 * lines). Serialised once per environment.
 */
const body = JSON.stringify(document);

export const handler = async (): Promise<APIGatewayProxyResult> => ({
  statusCode: 200,
  headers: { 'Content-Type': 'application/json', 'Access-Control-Allow-Origin': '*', 'Cache-Control': 'public, max-age=300' },
  body,
});
