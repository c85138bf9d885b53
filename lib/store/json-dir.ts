import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

/** Every `<name>.json` record of a directory the embedded stores keep (a missing directory: none; a torn file: skipped). */
export async function readJsonDir<T>(dir: string, name: RegExp = /^[0-9A-Za-z_.-]+\.json$/): Promise<T[]> {
  const out: T[] = [];
  for (const n of (await readdir(dir).catch(() => [] as string[])).filter((x) => name.test(x) && !x.startsWith('.'))) {
    try {
      out.push(JSON.parse(await readFile(path.join(dir, n), 'utf8')) as T);
    } catch {
      /* a torn file: skipped */
    }
  }
  return out;
}
