import { frameOf, messageHandler } from '#commons/realtime/websocket.js';
import { unknownActionError } from '#domain/realtime.js';

/**
 * $default: API Gateway routes here every frame whose `action` names no route,
 * including frames that are not JSON at all. The answer says what is understood.
 */
export const handler = messageHandler(async (event) => unknownActionError(frameOf(event)));
