import type { APIGatewayProxyResult } from 'aws-lambda';
import { z } from 'zod';
import { readEnv } from '../commons/env.js';
import { json } from '../commons/http.js';

const env = readEnv({ APP_VERSION: z.string().min(1) });

/** Liveness: no auth, no dependencies, so it answers even when a table is unreachable. */
export const handler = async (): Promise<APIGatewayProxyResult> => json(200, { status: 'ok', version: env.APP_VERSION });
