import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Everything a namespace of a file store holds, counted: every file, lock file and directory
 * under `<directory>/<namespace>` (the retention test compares counts, not bytes).
 */
export function storageCountOf(directory: string, namespace = 'ns'): number {
  let count = 0;
  const walk = (dir: string): void => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      count++;
      if (entry.isDirectory()) walk(join(dir, entry.name));
    }
  };
  walk(join(directory, namespace));
  return count;
}
