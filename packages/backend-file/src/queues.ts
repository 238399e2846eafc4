/**
 * Native queues on files: every state change of a job is ONE `rename(2)` of its file, so the
 * kernel decides every race (two claimers, a claimer and an expiry, an ack and an expiry): the
 * loser gets ENOENT and moves on. The file's content (payload, priority, enqueue time) never
 * changes; its place and name carry the state. A queue `q` lives in `queues/<q segments>/#q/`:
 *
 * - `seq`                                      last sequence issued, and the end of the block
 *                                               reserved by its last sync (record file, under `#seq.lock`)
 * - `ready/<pinv>/<sb>/<seq>.<attempts>`        waiting; `pinv` = 999999 - priority (7 digits),
 *                                               `sb` = seq bucket of {@link SEQ_BUCKET}, so the first
 *                                               name of the first non-empty bucket is the best job
 * - `claimed/<hi>/<lo>/<seq>.<leaseId>`         in flight until the end of time bucket `lo`
 * - `delayed/<hi>/<lo>/<seq>.<attempts>.<pinv>` invisible until the end of time bucket `lo`
 * - `dead/<seq>.<attempts>.<pinv>`              dead letters
 * - `ext/<seq>.<leaseId>`                       where an extended claim moved to (record file)
 * - `tmp/`                                      a job being enqueued
 *
 * Time buckets: `lo` = ceil(t / {@link LO_MS}), `hi` = floor(lo / {@link LO_PER_HI}). A claim first
 * lists only the `hi` buckets that have started and, in them, only the `lo` buckets that have
 * ended: a bounded listing whatever the number in flight or delayed (they are in later buckets).
 * A lease therefore ends at the end of its bucket, up to {@link LO_MS} after `now + leaseMs`, and
 * that end is what the claim reports as `leaseUntil`.
 *
 * The lease id is `<attempts>-<pinv>-<lo>-<nonce>`: everything settle needs to find the claimed
 * file without listing anything. Extend moves the file to a later bucket (one rename) and then
 * records the new bucket in `ext/`.
 */
import { lstatSync, readdirSync, unlinkSync } from 'node:fs';
import {
  InvalidValueError,
  compareKeys,
  type ClaimedJob,
  type NativeQueues,
  type QueueCounts,
  type QueueJobRecord,
  type SettleAction,
} from '@agent-state/core';
import { ioError, errnoOf, writeFileDurable } from './fs-io.js';
import { BOOT_ID, mutexOwner, nonce, unlinkQuiet } from './mutex.js';
import { segmentOfDir } from './layout.js';
import {
  JOB_ID,
  LEASE_ID,
  LO_MS,
  MAX_PRIORITY,
  QueueDirs,
  bucketDir,
  hiOf,
  holdsJob,
  listNames,
  loOf,
  move,
  p16,
  p7,
  readBody,
  readyDir,
  ring,
  rmdirQuiet,
  type JobBody,
} from './queue-layout.js';
import { nextInCounter, readRecord, writeRecord, type SeqRecord } from './record-file.js';
import type { Store } from './context.js';

export { LO_MS, LO_PER_HI, SEQ_BUCKET } from './queue-layout.js';

/** The `NativeQueues` of a file store. */
export class FileQueues implements NativeQueues {
  readonly #dirs = new Map<string, QueueDirs>();

  constructor(private readonly store: () => Store) {}

  dirsOf(queue: string): QueueDirs {
    let dirs = this.#dirs.get(queue);
    if (!dirs) {
      dirs = new QueueDirs(this.store(), queue);
      if (this.#dirs.size > 10_000) this.#dirs.clear();
      this.#dirs.set(queue, dirs);
    }
    return dirs;
  }

  async enqueue(queue: string, job: { json: string; priority: number; delayMs?: number }): Promise<{ id: string; sequence: number }> {
    const { priority, delayMs = 0, json } = job;
    if (!Number.isInteger(priority) || Math.abs(priority) > MAX_PRIORITY) {
      throw new InvalidValueError('priority', priority, `expected a whole number from -${MAX_PRIORITY} to ${MAX_PRIORITY}`);
    }
    if (typeof delayMs !== 'number' || !Number.isFinite(delayMs) || delayMs < 0) throw new InvalidValueError('delayMs', delayMs, 'expected a number >= 0');
    if (typeof json !== 'string') throw new InvalidValueError('json', json, 'expected the serialized payload');
    const store = this.store();
    const dirs = this.dirsOf(queue);
    const now = Date.now();
    // 1. the content, durable, under a private name (nobody lists tmp/ for jobs)
    store.dirs.ensure(dirs.tmp);
    const tmp = `${dirs.tmp}/${nonce()}`;
    const body: JobBody = { priority, enqueuedAt: now, json };
    try {
      writeFileDurable(tmp, JSON.stringify(body), store.durable);
    } catch (error) {
      throw ioError(tmp, 'write job', error);
    }
    // 2. its sequence (the only step under a mutex). The counter's pwrite is seen by listeners
    // (inotify IN_MODIFY) before the job is in ready/, so that wake finds nothing: the ring
    // after step 3 is the one that matters.
    let sequence: number;
    await store.mutexes.acquireOrWait(dirs.seqMutex, dirs.root, mutexOwner(nonce()));
    try {
      // Synced once per block of sequences (record-file.ts): the job's own file and bucket are
      // the enqueue's two fsyncs, as in the raw durable write.
      const stored = readRecord<SeqRecord>(dirs.seqFile, 'queue sequence');
      const next = nextInCounter(stored && { last: stored.seq, reserved: stored.reserved, boot: stored.boot }, store.durable);
      sequence = next.value;
      writeRecord(dirs.seqFile, { seq: next.value, reserved: next.reserved, boot: next.boot } satisfies SeqRecord, next.sync, 'queue sequence');
    } finally {
      store.mutexes.release(dirs.seqMutex);
    }
    // 3. one rename makes it a job
    const pinv = p7(MAX_PRIORITY - priority);
    const target = delayMs > 0 ? bucketDir(dirs.delayed, loOf(now + delayMs)) : readyDir(dirs, pinv, sequence);
    const name = delayMs > 0 ? `${p16(sequence)}.0.${pinv}` : `${p16(sequence)}.0`;
    move(store, tmp, target, name);
    // 4. wake listeners now that a claim can see the job (before the bucket's fsync: a claim
    // moves the job on anyway, and the enqueue returns only once its bucket is durable)
    ring(dirs);
    if (store.durable) store.syncBucket(target);
    return { id: String(sequence), sequence };
  }

  async claim(queue: string, options: { leaseMs: number; owner: string; maxAttempts?: number }): Promise<ClaimedJob | null> {
    const { leaseMs, maxAttempts } = options;
    if (typeof leaseMs !== 'number' || !Number.isFinite(leaseMs) || leaseMs <= 0) throw new InvalidValueError('leaseMs', leaseMs, 'expected a number > 0');
    const store = this.store();
    const dirs = this.dirsOf(queue);
    const now = Date.now();
    this.#returnDue(store, dirs, dirs.claimed, now);
    this.#returnDue(store, dirs, dirs.delayed, now);
    for (let round = 0; round < 1_000; round++) {
      const bucket = this.#firstReadyBucket(store, dirs);
      if (!bucket) return null;
      for (const name of bucket.names) {
        const dot = name.indexOf('.');
        const sequence = Number(name.slice(0, dot));
        const attempts = Number(name.slice(dot + 1));
        const src = `${bucket.dir}/${name}`;
        if (maxAttempts !== undefined && attempts >= maxAttempts) {
          move(store, src, dirs.dead, `${p16(sequence)}.${attempts}.${bucket.pinv}`);
          continue;
        }
        const body = readBody(src);
        if (!body) continue; // claimed by another process meanwhile
        const lo = loOf(now + leaseMs);
        const leaseId = `${attempts + 1}-${bucket.pinv}-${lo}-${nonce()}`;
        if (!move(store, src, bucketDir(dirs.claimed, lo), `${p16(sequence)}.${leaseId}`)) continue;
        return {
          id: String(sequence),
          json: body.json,
          priority: body.priority,
          sequence,
          attempts: attempts + 1,
          leaseId,
          leaseUntil: lo * LO_MS,
          enqueuedAt: body.enqueuedAt,
        };
      }
    }
    return null;
  }

  async settle(queue: string, id: string, leaseId: string, action: SettleAction): Promise<boolean> {
    if (!JOB_ID.test(id)) return false;
    const m = LEASE_ID.exec(leaseId);
    if (!m) return false;
    const store = this.store();
    const dirs = this.dirsOf(queue);
    const sequence = Number(id);
    const attempts = Number(m[1]);
    const pinv = m[2]!;
    const name = `${p16(sequence)}.${leaseId}`;
    const extFile = `${dirs.ext}/${name}`;
    const lo = readRecord<{ lo: number }>(extFile, 'extended lease')?.lo ?? Number(m[3]);
    const path = `${bucketDir(dirs.claimed, lo)}/${name}`;
    const now = Date.now();
    switch (action.kind) {
      case 'ack': {
        try {
          unlinkSync(path);
        } catch (error) {
          if (errnoOf(error) === 'ENOENT') return false;
          throw ioError(path, 'ack job', error);
        }
        if (lo !== Number(m[3])) unlinkQuiet(extFile);
        return true;
      }
      case 'nack': {
        const delayMs = action.delayMs;
        const moved =
          delayMs > 0
            ? move(store, path, bucketDir(dirs.delayed, loOf(now + delayMs)), `${p16(sequence)}.${attempts}.${pinv}`)
            : move(store, path, readyDir(dirs, pinv, sequence), `${p16(sequence)}.${attempts}`);
        if (!moved) return false;
        if (lo !== Number(m[3])) unlinkQuiet(extFile);
        ring(dirs);
        return true;
      }
      case 'extend': {
        const next = loOf(now + action.leaseMs);
        if (next <= lo) return lstatSync(path, { throwIfNoEntry: false }) !== undefined;
        if (!move(store, path, bucketDir(dirs.claimed, next), name)) return false;
        store.dirs.ensure(dirs.ext);
        writeRecord(extFile, { lo: next }, false, 'extended lease');
        return true;
      }
    }
  }

  async counts(queue: string): Promise<QueueCounts> {
    const store = this.store();
    const dirs = this.dirsOf(queue);
    const now = Date.now();
    let waiting = 0;
    for (const pinv of listNames(dirs.ready)) for (const sb of listNames(`${dirs.ready}/${pinv}`)) waiting += listNames(`${dirs.ready}/${pinv}/${sb}`).length;
    const timed = (base: string): { due: number; later: number } => {
      let due = 0;
      let later = 0;
      for (const hi of listNames(base)) {
        for (const lo of listNames(`${base}/${hi}`)) {
          const n = listNames(`${base}/${hi}/${lo}`).length;
          if (Number(lo) * LO_MS <= now) due += n;
          else later += n;
        }
      }
      return { due, later };
    };
    const claimed = timed(dirs.claimed);
    const delayed = timed(dirs.delayed);
    void store;
    return { waiting: waiting + claimed.due + delayed.due, inFlight: claimed.later, delayed: delayed.later, dead: listNames(dirs.dead).length };
  }

  async jobs(queue: string, options: { state?: QueueJobRecord['state']; afterSequence?: number; limit: number }): Promise<QueueJobRecord[]> {
    const dirs = this.dirsOf(queue);
    const now = Date.now();
    const found: { path: string; sequence: number; attempts: number; state: QueueJobRecord['state']; visibleAt?: number }[] = [];
    const want = (state: QueueJobRecord['state']): boolean => options.state === undefined || options.state === state;
    const after = options.afterSequence ?? 0;
    const add = (path: string, name: string, state: QueueJobRecord['state'], attempts: number, visibleAt?: number): void => {
      const sequence = Number(name.slice(0, 16));
      if (sequence > after) found.push({ path, sequence, attempts, state, ...(visibleAt !== undefined && { visibleAt }) });
    };
    if (want('waiting') || want('in-flight') || want('delayed')) {
      for (const pinv of listNames(dirs.ready))
        for (const sb of listNames(`${dirs.ready}/${pinv}`))
          for (const name of listNames(`${dirs.ready}/${pinv}/${sb}`)) if (want('waiting')) add(`${dirs.ready}/${pinv}/${sb}/${name}`, name, 'waiting', Number(name.split('.')[1]));
      for (const [base, kind] of [
        [dirs.claimed, 'in-flight'],
        [dirs.delayed, 'delayed'],
      ] as const) {
        for (const hi of listNames(base))
          for (const lo of listNames(`${base}/${hi}`))
            for (const name of listNames(`${base}/${hi}/${lo}`)) {
              const end = Number(lo) * LO_MS;
              const state = end <= now ? 'waiting' : kind;
              if (!want(state)) continue;
              const attempts = kind === 'in-flight' ? Number(name.slice(17).split('-')[0]) : Number(name.split('.')[1]);
              add(`${base}/${hi}/${lo}/${name}`, name, state, attempts, state === 'waiting' ? undefined : end);
            }
      }
    }
    if (want('dead')) for (const name of listNames(dirs.dead)) add(`${dirs.dead}/${name}`, name, 'dead', Number(name.split('.')[1]));
    found.sort((a, b) => a.sequence - b.sequence);
    const out: QueueJobRecord[] = [];
    for (const f of found) {
      if (out.length >= options.limit) break;
      const body = readBody(f.path);
      if (!body) continue; // moved meanwhile
      out.push({
        id: String(f.sequence),
        json: body.json,
        priority: body.priority,
        sequence: f.sequence,
        attempts: f.attempts,
        enqueuedAt: body.enqueuedAt,
        state: f.state,
        ...(f.visibleAt !== undefined && { visibleAt: f.visibleAt }),
      });
    }
    return out;
  }

  async reviveDead(queue: string, id: string, action: 'retry' | 'delete'): Promise<boolean> {
    if (!JOB_ID.test(id)) return false;
    const store = this.store();
    const dirs = this.dirsOf(queue);
    const prefix = `${p16(Number(id))}.`;
    for (const name of listNames(dirs.dead)) {
      if (!name.startsWith(prefix)) continue;
      const path = `${dirs.dead}/${name}`;
      if (action === 'delete') {
        try {
          unlinkSync(path);
          return true;
        } catch (error) {
          if (errnoOf(error) === 'ENOENT') return false;
          throw ioError(path, 'delete dead letter', error);
        }
      }
      const pinv = name.split('.')[2]!;
      if (!move(store, path, readyDir(dirs, pinv, Number(id)), `${p16(Number(id))}.0`)) return false;
      ring(dirs);
      return true;
    }
    return false;
  }

  async names(): Promise<string[]> {
    const store = this.store();
    const out: string[] = [];
    const walk = (dir: string, prefix: string): void => {
      for (const name of listNames(dir)) {
        const segment = segmentOfDir(name);
        if (segment !== undefined) walk(`${dir}/${name}`, `${prefix}${segment}/`);
      }
      let entries: string[];
      try {
        entries = readdirSync(dir);
      } catch {
        return;
      }
      if (entries.includes('#q') && prefix !== '' && holdsJob(`${dir}/#q`)) out.push(prefix.slice(0, -1));
    };
    walk(store.layout.queuesDir, '');
    return out.sort(compareKeys);
  }

  /**
   * When the next claimed lease or delayed job of the queue comes due (epoch ms), or
   * `undefined` when none is waiting for time: the first bucket of each timed directory.
   */
  nextDue(queue: string): number | undefined {
    const dirs = this.dirsOf(queue);
    let due: number | undefined;
    for (const base of [dirs.claimed, dirs.delayed]) {
      for (const hi of listNames(base)) {
        const first = listNames(`${base}/${hi}`)[0];
        if (first === undefined) continue;
        const end = Number(first) * LO_MS;
        due = due === undefined ? end : Math.min(due, end);
        break;
      }
    }
    return due;
  }

  /**
   * Places a job taken over from the portable layout (the store upgrade, see upgrade.ts) where
   * the native layout keeps it, under a name made from its sequence only, so that doing it again
   * after a crash puts it in the same place. Raises the queue's sequence to at least `sequence`.
   */
  importJob(
    queue: string,
    job: { sequence: number; priority: number; enqueuedAt: number; json: string; attempts: number; state: 'waiting' | 'delayed' | 'in-flight' | 'dead'; visibleAt: number },
  ): void {
    const store = this.store();
    const dirs = this.dirsOf(queue);
    const pinv = p7(MAX_PRIORITY - job.priority);
    const seq = p16(job.sequence);
    const lo = loOf(job.visibleAt);
    const [dir, name] =
      job.state === 'dead'
        ? [dirs.dead, `${seq}.${job.attempts}.${pinv}`]
        : job.state === 'in-flight'
          ? [bucketDir(dirs.claimed, lo), `${seq}.${job.attempts}-${pinv}-${lo}-up${job.sequence.toString(36)}`]
          : job.state === 'delayed'
            ? [bucketDir(dirs.delayed, lo), `${seq}.${job.attempts}.${pinv}`]
            : [readyDir(dirs, pinv, job.sequence), `${seq}.${job.attempts}`];
    store.dirs.ensure(dirs.tmp);
    const tmp = `${dirs.tmp}/${nonce()}`;
    const body: JobBody = { priority: job.priority, enqueuedAt: job.enqueuedAt, json: job.json };
    try {
      writeFileDurable(tmp, JSON.stringify(body), store.durable);
    } catch (error) {
      throw ioError(tmp, 'write job', error);
    }
    move(store, tmp, dir, name);
    if (store.durable) store.syncBucket(dir);
    this.importSequence(queue, job.sequence);
  }

  /** Raises the queue's last sequence to at least `sequence` (store upgrade). */
  importSequence(queue: string, sequence: number): void {
    const store = this.store();
    const dirs = this.dirsOf(queue);
    store.dirs.ensure(dirs.root);
    const current = readRecord<SeqRecord>(dirs.seqFile, 'queue sequence');
    if (sequence > (current?.seq ?? 0)) {
      writeRecord(dirs.seqFile, { seq: sequence, reserved: Math.max(sequence, current?.reserved ?? 0), boot: BOOT_ID }, store.durable, 'queue sequence');
    }
  }

  /** The first ready bucket that has names (empty buckets and priority dirs are removed). */
  #firstReadyBucket(store: Store, dirs: QueueDirs): { dir: string; pinv: string; names: string[] } | undefined {
    for (const pinv of listNames(dirs.ready)) {
      const pdir = `${dirs.ready}/${pinv}`;
      for (const sb of listNames(pdir)) {
        const dir = `${pdir}/${sb}`;
        const jobs = listNames(dir);
        if (jobs.length > 0) return { dir, pinv, names: jobs };
        rmdirQuiet(store, dir);
      }
      rmdirQuiet(store, pdir);
    }
    return undefined;
  }

  /**
   * Moves the jobs of every ended time bucket of `base` (expired claims, due delayed jobs) back
   * to ready, and removes the emptied buckets. Lists only buckets that have started.
   */
  #returnDue(store: Store, dirs: QueueDirs, base: string, now: number): void {
    const nowLo = Math.floor(now / LO_MS); // buckets <= this one have ended
    for (const hiName of listNames(base)) {
      const hi = Number(hiName);
      if (hi > hiOf(nowLo)) break;
      const hdir = `${base}/${hiName}`;
      for (const loName of listNames(hdir)) {
        if (Number(loName) > nowLo) break;
        const ldir = `${hdir}/${loName}`;
        for (const name of listNames(ldir)) {
          const sequence = Number(name.slice(0, 16));
          let attempts: number;
          let pinv: string;
          if (base === dirs.claimed) {
            const m = LEASE_ID.exec(name.slice(17));
            if (!m) continue;
            attempts = Number(m[1]);
            pinv = m[2]!;
          } else {
            const parts = name.split('.');
            attempts = Number(parts[1]);
            pinv = parts[2] ?? p7(MAX_PRIORITY);
          }
          if (move(store, `${ldir}/${name}`, readyDir(dirs, pinv, sequence), `${p16(sequence)}.${attempts}`) && base === dirs.claimed) {
            const m = LEASE_ID.exec(name.slice(17));
            if (m && Number(m[3]) !== Number(loName)) unlinkQuiet(`${dirs.ext}/${name}`);
          }
        }
        rmdirQuiet(store, ldir);
      }
      if (hi < hiOf(nowLo)) rmdirQuiet(store, hdir);
    }
  }
}

