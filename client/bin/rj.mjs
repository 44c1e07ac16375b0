#!/usr/bin/env node
// The `rj` command (package.json "bin"; `npx rj --help`): the CLI in client/cli.ts, run through tsx's loader.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli.ts');
await main();
