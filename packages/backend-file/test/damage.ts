/** The contract suite's damage hook for the file backend: a torn document, read back as bytes. */
import { readFileSync, writeFileSync } from 'node:fs';
import type { CommunicationConfigInput } from '@agent-state/core';
import type { DamageHook } from '@agent-state/contract';
import { Layout } from '../src/layout.js';

const documentOf = (config: CommunicationConfigInput, key: string): string =>
  new Layout(String(config.settings?.directory), config.namespace ?? 'ns', undefined).data(key).file;

/** Tears a key's document in half (a write cut short by a crash on a file system without atomic rename). */
export const fileDamage: DamageHook = {
  damage(config, key) {
    const file = documentOf(config, key);
    const text = readFileSync(file, 'utf8');
    writeFileSync(file, text.slice(0, Math.floor(text.length / 2)));
  },
  stored(config, key) {
    try {
      return readFileSync(documentOf(config, key), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  },
};
