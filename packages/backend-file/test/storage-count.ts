import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The records a namespace of a file store holds: every file and lock file under
 * `<directory>/<namespace>` (directories are structure, like a table's pages: emptied queue
 * buckets are removed by the next claim that passes them, a log's directory stays), except the
 * holder files of open clients (`holders/`, see mutex.ts).
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
      // holders/: one file per open client (what its mutexes link to), not a record.
      if (entry.isDirectory()) {
        if (dir !== root || entry.name !== 'holders') walk(join(dir, entry.name));
      } else count++;
    }
  };
  const root = join(directory, namespace);
  walk(root);
  return count;
}
