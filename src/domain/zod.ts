import { config } from 'zod/mini';
import en from 'zod/v4/locales/en.js';

/**
 * zod for everything a Lambda function loads: its tree-shakeable form (`zod/mini`,
 * functions instead of methods), so a bundle carries only the validators it uses
 * (about 20 KB instead of zod's 440 KB), with zod's English messages, which the
 * classic form sets by itself and the tree-shakeable one does not.
 * Import it as `import * as z from '…/src/domain/zod.js'`.
 */
config(en());

export * from 'zod/mini';
