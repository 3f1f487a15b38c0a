// `npm run build` (run by `npm ci` through `prepare`): compiles src/ to dist/, writes the template
// database for fast first starts, then stamps the build; bin/tenantry.js runs dist/ when the stamp
// is newer than every source file.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = new URL('../', import.meta.url);
process.chdir(fileURLToPath(root));
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
fs.rmSync('dist/BUILD', { force: true });
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
const { writeEmbeddedTemplate } = await import(new URL('dist/core/db/template.js', root).href);
await writeEmbeddedTemplate();
fs.writeFileSync('dist/BUILD', `${new Date().toISOString()}\n`);
