/**
 * Change notification for `watch(key)`: one inotify watch (`fs.watch`) per directory, shared by
 * every watcher of the process and refcounted. Documents are replaced by temp + rename, so the
 * directory is watched and events are filtered by the document's file name.
 *
 * Watching is only a hint: core's pollers keep polling on their own schedule, so a watch that
 * cannot be set up, or dies (an error, the directory removed), falls back to polling silently.
 */
import { existsSync, watch as fsWatch, type FSWatcher } from 'node:fs';
import { basename } from 'node:path';
import type { DirCache } from './fs-io.js';

type Listener = () => void;

/** One `fs.watch` of a directory and the listeners of the file names in it. */
interface DirWatch {
  readonly watcher: FSWatcher;
  readonly byName: Map<string, Set<Listener>>;
  refs: number;
}

/** Process-wide: every backend instance (every client) shares one watch per directory. */
const watched = new Map<string, DirWatch>();

/** Calls `onChange` when the file `name` of `dir` may have changed; returns the function that stops. */
function watchFile(dir: string, name: string, onChange: Listener): () => void {
  const entry = watched.get(dir) ?? openDirWatch(dir);
  if (!entry) return () => {};
  let listeners = entry.byName.get(name);
  if (!listeners) entry.byName.set(name, (listeners = new Set()));
  // A wrapper per call, so the same function watched twice is stopped once per stop.
  const listener: Listener = () => onChange();
  listeners.add(listener);
  entry.refs++;
  let stopped = false;
  return () => {
    if (stopped) return;
    stopped = true;
    listeners.delete(listener);
    if (listeners.size === 0 && entry.byName.get(name) === listeners) entry.byName.delete(name);
    if (--entry.refs === 0) closeDirWatch(dir, entry);
  };
}

function openDirWatch(dir: string): DirWatch | undefined {
  let watcher: FSWatcher;
  try {
    // persistent: false: a watch never keeps the process alive.
    watcher = fsWatch(dir, { persistent: false });
  } catch {
    return undefined; // ENOENT, ENOSPC (inotify limit), EMFILE ...: core's polling covers it
  }
  const entry: DirWatch = { watcher, byName: new Map(), refs: 0 };
  const self = basename(dir);
  watcher.on('change', (_event, filename) => {
    const name = typeof filename === 'string' ? filename : filename?.toString();
    if (name === undefined || name === null) return wakeAll(entry);
    // An event naming the directory itself may be its removal: the kernel then drops the
    // watch, so this one is retired (its listeners woken once) and polling takes over.
    if (name === self && !existsSync(dir)) return retire(dir, entry);
    const listeners = entry.byName.get(name);
    if (listeners) for (const listener of [...listeners]) listener();
  });
  watcher.on('error', () => retire(dir, entry));
  watched.set(dir, entry);
  return entry;
}

/** A dead watch: closed and forgotten; its listeners get one (spurious) wake to poll now. */
function retire(dir: string, entry: DirWatch): void {
  closeDirWatch(dir, entry);
  wakeAll(entry);
}

function wakeAll(entry: DirWatch): void {
  for (const listeners of [...entry.byName.values()]) for (const listener of [...listeners]) listener();
}

function closeDirWatch(dir: string, entry: DirWatch): void {
  if (watched.get(dir) === entry) watched.delete(dir);
  try {
    entry.watcher.close();
  } catch {
    // already closed
  }
}

/** The watches of one backend instance, all stopped by {@link Watches.closeAll} on close(). */
export class Watches {
  readonly #stops = new Set<() => void>();

  constructor(private readonly dirs: DirCache) {}

  /**
   * Watches the file `file` in `dir`. The directory is created (0700, as every directory of the
   * store) when missing, since the key's document may not exist yet; if that fails, the watch is
   * a no-op and the caller's polling does the work.
   */
  watch(dir: string, file: string, onChange: Listener): () => void {
    try {
      this.dirs.ensure(dir);
    } catch {
      return () => {};
    }
    const stopFile = watchFile(dir, basename(file), onChange);
    const stop = (): void => {
      this.#stops.delete(stop);
      stopFile();
    };
    this.#stops.add(stop);
    return stop;
  }

  /** Stops every watch of this backend instance. */
  closeAll(): void {
    for (const stop of [...this.#stops]) stop();
  }
}

/** How many directories the process watches (for tests). */
export function watchedDirCount(): number {
  return watched.size;
}
