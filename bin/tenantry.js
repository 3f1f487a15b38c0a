#!/usr/bin/env node
// Runs the compiled build in dist/ (made by `npm ci` through `prepare`, or `npm run build`). When
// dist/ is missing or older than a source file (a checkout being edited), or TENANTRY_FROM_SOURCE=1,
// runs the TypeScript sources through tsx instead.
import { distIsCurrent } from '../scripts/build-state.js';

const root = new URL('../', import.meta.url);
let entry;
if (process.env.TENANTRY_FROM_SOURCE !== '1' && distIsCurrent()) {
  entry = new URL('dist/cli/main.js', root);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  entry = new URL('src/cli/main.ts', root);
}
const { main } = await import(entry.href);
await main(process.argv.slice(2));
