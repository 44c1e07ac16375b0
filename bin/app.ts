import { createApp } from '../lib/app.js';

/** `cdk synth` / `cdk deploy` entry point; see lib/app.ts. */
createApp().app.synth();
