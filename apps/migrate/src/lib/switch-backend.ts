import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { MigrateError } from '../errors.js';

/** What `--switch` changed. */
export interface SwitchResult {
  file: string;
  backend: { from: string | null; to: string };
  namespace?: { from: string | null; to: string };
}

/**
 * Points project.yml at the new backend: rewrites `communication.backend` (and the namespace
 * when the target used another one) through the YAML document model, so every comment, blank
 * line and the order of keys are kept. Written atomically (temp file + rename).
 */
export function switchBackend(file: string, backend: string, namespace?: string): SwitchResult {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new MigrateError('CONFIG', `--switch: cannot read ${file}: ${(error as Error).message}`, { cause: error });
  }
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw new MigrateError('CONFIG', `--switch: ${file} is not valid YAML: ${doc.errors[0]?.message ?? ''}`);
  const before = doc.getIn(['communication', 'backend']);
  doc.setIn(['communication', 'backend'], backend);
  const result: SwitchResult = { file, backend: { from: typeof before === 'string' ? before : null, to: backend } };
  if (namespace !== undefined) {
    const nsBefore = doc.getIn(['communication', 'namespace']);
    if (nsBefore !== namespace && !(nsBefore === undefined && namespace === 'default')) {
      doc.setIn(['communication', 'namespace'], namespace);
      result.namespace = { from: typeof nsBefore === 'string' ? nsBefore : null, to: namespace };
    }
  }
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, String(doc));
  renameSync(temp, file);
  return result;
}
