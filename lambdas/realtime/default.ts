import { unknownActionError } from '../../src/domain/realtime.js';
import { frameOf, messageHandler } from '../commons/websocket.js';

/**
 * $default: API Gateway routes here every frame whose `action` names no route,
 * including frames that are not JSON at all. The answer says what is understood.
 */
export const handler = messageHandler(async (event) => unknownActionError(frameOf(event)));
