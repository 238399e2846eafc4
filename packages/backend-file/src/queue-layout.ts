/**
 * The on-disk layout of a native queue (see queues.ts for the algorithms): its directories, the
 * fixed-width names that sort in service order, time buckets, and the few file moves every
 * state change is made of.
 */
import { lstatSync, readFileSync, readdirSync, renameSync, rmdirSync, utimesSync } from 'node:fs';
import { CorruptDataError } from '@agent-state/core';
import { errnoOf, ioError } from './fs-io.js';
import type { Store } from './context.js';

/** Width of a time bucket (ms): lease ends and delays are rounded up to it. */
export const LO_MS = 128;
/** Time buckets per upper bucket (so an upper bucket spans 8.192 s). */
export const LO_PER_HI = 64;
/** Sequences per ready bucket: a claim reads at most this many names in its last listing. */
export const SEQ_BUCKET = 256;
export const MAX_PRIORITY = 999_999;
export const LEASE_ID = /^(\d{1,9})-(\d{7})-(\d{1,15})-([0-9a-z]{1,40})$/;
export const JOB_ID = /^[1-9]\d{0,15}$/;

export const p7 = (n: number): string => String(n).padStart(7, '0');
export const p12 = (n: number): string => String(n).padStart(12, '0');
export const p16 = (n: number): string => String(n).padStart(16, '0');

/** The immutable content of a job file. */
export interface JobBody {
  priority: number;
  enqueuedAt: number;
  json: string;
}

/** The directories of one queue. */
export class QueueDirs {
  readonly root: string;
  readonly seqFile: string;
  readonly seqMutex: string;
  readonly ready: string;
  readonly claimed: string;
  readonly delayed: string;
  readonly dead: string;
  readonly ext: string;
  readonly tmp: string;
  constructor(store: Store, name: string) {
    this.root = store.layout.family(store.layout.queuesDir, name, '#q');
    this.seqFile = `${this.root}/seq`;
    this.seqMutex = `${this.root}/#seq.lock`;
    this.ready = `${this.root}/ready`;
    this.claimed = `${this.root}/claimed`;
    this.delayed = `${this.root}/delayed`;
    this.dead = `${this.root}/dead`;
    this.ext = `${this.root}/ext`;
    this.tmp = `${this.root}/tmp`;
  }
}

export const loOf = (t: number): number => Math.ceil(t / LO_MS);
export const hiOf = (lo: number): number => Math.floor(lo / LO_PER_HI);
export const bucketDir = (base: string, lo: number): string => `${base}/${p12(hiOf(lo))}/${p12(lo)}`;
export const readyDir = (dirs: QueueDirs, pinv: string, seq: number): string => `${dirs.ready}/${pinv}/${p12(Math.floor(seq / SEQ_BUCKET))}`;

/** Names in `dir` sorted (every name we make is fixed-width digits); [] when it is missing. */
export function listNames(dir: string): string[] {
  try {
    return readdirSync(dir).filter((n) => !n.startsWith('#')).sort();
  } catch (error) {
    const code = errnoOf(error);
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw ioError(dir, 'read queue directory', error);
  }
}

/** Removes `dir` if it is empty; anything else (not empty, gone) is fine. */
export function rmdirQuiet(store: Store, dir: string): void {
  try {
    rmdirSync(dir);
  } catch (error) {
    const code = errnoOf(error);
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'ENOENT') throw ioError(dir, 'remove empty queue directory', error);
  }
  store.dirs.forget(dir);
}

/**
 * Renames `src` to `dir/name` (creating `dir`); false when `src` is gone (another process moved
 * it first). A directory removed under us (an emptied bucket) is made again.
 */
export function move(store: Store, src: string, dir: string, name: string): boolean {
  for (let attempt = 0; ; attempt++) {
    try {
      store.dirs.ensure(dir);
      renameSync(src, `${dir}/${name}`);
      return true;
    } catch (error) {
      if (errnoOf(error) !== 'ENOENT') throw ioError(src, 'move job', error);
      if (lstatSync(src, { throwIfNoEntry: false }) === undefined) return false;
      store.dirs.forget(dir);
      if (attempt >= 8) throw ioError(`${dir}/${name}`, 'move job (its directory keeps vanishing)', error);
    }
  }
}

export function readBody(path: string): JobBody | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (errnoOf(error) === 'ENOENT') return undefined;
    throw ioError(path, 'read job', error);
  }
  try {
    const body = JSON.parse(text) as JobBody;
    if (typeof body.json !== 'string' || !Number.isInteger(body.priority) || typeof body.enqueuedAt !== 'number') throw new Error('fields');
    return body;
  } catch (error) {
    throw new CorruptDataError(path, 'not an agent-state job file (expected priority, enqueuedAt, json)', { cause: error });
  }
}

/** Wakes listeners of the queue (an attribute change of `seq`, seen by inotify). */
export function ring(dirs: QueueDirs): void {
  const now = new Date();
  try {
    utimesSync(dirs.seqFile, now, now);
  } catch {
    // no seq file yet: nothing was ever enqueued, nobody to wake for
  }
}

/** True when the queue directory holds at least one job in any state. */
export function holdsJob(root: string): boolean {
  const any = (dir: string, depth: number): boolean => {
    for (const name of listNames(dir)) {
      if (depth === 0) return true;
      if (any(`${dir}/${name}`, depth - 1)) return true;
    }
    return false;
  };
  return any(`${root}/ready`, 2) || any(`${root}/claimed`, 2) || any(`${root}/delayed`, 2) || any(`${root}/dead`, 0);
}
