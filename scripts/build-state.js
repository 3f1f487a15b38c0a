// Whether dist/ (written by scripts/build.js) is current: its stamp is newer than every source file.
import fs from 'node:fs';

const root = new URL('../', import.meta.url);

function newestSource(dir) {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile() && entry.name.endsWith('.ts'))
      newest = Math.max(newest, fs.statSync(`${entry.parentPath ?? entry.path}/${entry.name}`).mtimeMs);
  }
  return newest;
}

export function distIsCurrent() {
  const stamp = new URL('dist/BUILD', root);
  if (!fs.existsSync(stamp)) return false;
  const src = new URL('src/', root);
  // An installed package may ship without sources: then dist/ is all there is.
  return !fs.existsSync(src) || newestSource(src) <= fs.statSync(stamp).mtimeMs;
}
