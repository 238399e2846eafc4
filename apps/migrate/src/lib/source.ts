import type { Entry, StateClient } from '@agent-state/core';
import { backendOf } from '@agent-state/core/backend';
import { isMigrationKey } from './entries.js';

const FIRST_PAGE = 256;
const MAX_PAGE = 8_192;
/** A page is not grown past this many bytes of values (1 MiB values keep pages small). */
const PAGE_BYTES = 8 * 1024 * 1024;

/**
 * Every live entry of the namespace in one key order, user and coordination (`@…`) keys alike,
 * the migration's own keys left out. One total order is what makes "the last key copied" a
 * complete checkpoint: resuming lists `after` it.
 *
 * Pages come straight from the backend's `list` (the client's `backend`, the same contract the
 * client pages over) so that their size can adapt: the client's fixed 256-entry pages cost a
 * directory walk each on the file backend, which made a 100 000-entry copy quadratic. Pages
 * grow to 8 192 entries while they stay under 8 MiB of values.
 */
export async function* listNamespace(state: StateClient, after?: string): AsyncGenerator<Entry> {
  let limit = FIRST_PAGE;
  let cursor = after;
  for (;;) {
    state.guard('list');
    const page = await backendOf(state).list({ limit, ...(cursor !== undefined && { after: cursor }) });
    let bytes = 0;
    for (const entry of page) {
      bytes += typeof entry.value === 'string' ? entry.value.length : JSON.stringify(entry.value).length;
      if (!isMigrationKey(entry.key)) yield entry;
    }
    if (page.length < limit) return;
    cursor = page[page.length - 1]?.key;
    limit = bytes < PAGE_BYTES / 2 ? Math.min(MAX_PAGE, limit * 2) : Math.max(16, Math.floor(limit / 2));
  }
}

/** True when the namespace holds anything besides the migration's own keys. */
export async function namespaceIsEmpty(state: StateClient): Promise<boolean> {
  for await (const _ of listNamespace(state)) return false;
  return true;
}
