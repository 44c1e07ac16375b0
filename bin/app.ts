import { createApp } from '../lib/app.js';

/** `cdk synth` / `cdk deploy` entry point (cdk.json: `npx tsx bin/app.ts`); the app itself is built in lib/app.ts. */
createApp().app.synth();
