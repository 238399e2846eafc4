import { compareKeys, type Entry, type StateClient } from '@agent-state/core';
import { isMigrationKey } from './entries.js';

/**
 * Every live entry of the namespace in one key order: the user keys (`list()`) merged with the
 * coordination keys (`list({ prefix: '@' })`), the migration's own keys left out. One total
 * order is what makes "the last key copied" a complete checkpoint: resuming lists `after` it.
 */
export async function* listNamespace(state: StateClient, after?: string): AsyncGenerator<Entry> {
  const user = state.list(after !== undefined ? { after } : undefined)[Symbol.asyncIterator]();
  const coordination = state.list({ prefix: '@', ...(after !== undefined && { after }) })[Symbol.asyncIterator]();
  let a = await user.next();
  let b = await coordination.next();
  while (!a.done || !b.done) {
    let next: Entry;
    if (b.done || (!a.done && compareKeys(a.value.key, b.value.key) < 0)) {
      next = a.value as Entry;
      a = await user.next();
    } else {
      next = b.value;
      b = await coordination.next();
    }
    if (!isMigrationKey(next.key)) yield next;
  }
}

/** True when the namespace holds anything besides the migration's own keys. */
export async function namespaceIsEmpty(state: StateClient): Promise<boolean> {
  for await (const _ of listNamespace(state)) return false;
  return true;
}
