/**
 * The Redis key layout of one namespace. Every key starts with `<prefix>:{<namespace>}:`, so two
 * projects (prefixes) and two namespaces share a server without seeing each other, `redis-cli
 * --scan` shows readable keys, and the `{<namespace>}` hash tag puts a whole namespace in one
 * Redis Cluster slot, which the multi-key Lua scripts need.
 *
 * ```
 * agent-state:{team}:k:tasks/42     entry: '<version>:<updatedAt>:<expiresAt>:<json>'
 * agent-state:{team}:idx            sorted set of the namespace's keys (score 0, for list)
 * agent-state:{team}:l:deploy       lease of lock "deploy": '<token> <owner>', expires with it
 * agent-state:{team}:f:deploy       fencing counter of lock "deploy": never expires or resets
 * agent-state:{team}:h:deploy       last lease of "deploy": '<token> <owner> <expiresAt>' until
 *                                   released (outlives a lapsed lease, for the takeover audit)
 * agent-state:{team}:meta           hash: 'format' (store format), 'floor' (version floor)
 * agent-state:{team}:q:<queue>:…    a native queue (see queues.ts)
 * agent-state:{team}:g:<log>        a native log, a stream (see logs.ts)
 * ```
 */

import type { WakeTopic } from '@agent-state/core';

/** Default first segment of every key (`redis_key_prefix`). */
export const DEFAULT_KEY_PREFIX = 'agent-state';

/** Characters of a Redis glob pattern that must be escaped to match themselves. */
const GLOB_SPECIAL = /[*?[\]\\]/g;

/** The letter of each wake topic kind in its channel name. */
const WAKE_KIND: Record<WakeTopic['kind'], string> = { queue: 'q', log: 'g', lock: 'l' };

/** Key names of one namespace. */
export class KeyLayout {
  /** `<prefix>:{<namespace>}:`, the start of every key of the namespace. */
  readonly base: string;
  /** The start of every entry key. */
  readonly entryPrefix: string;
  /**
   * The entry prefix as the server sees it: with the `keyPrefix` ioredis adds to declared keys
   * of a client handed in. `list-1.lua` builds entry keys from it, which ioredis cannot prefix.
   */
  readonly serverEntryPrefix: string;
  /** The sorted set of the namespace's keys. */
  readonly index: string;
  /** A SCAN MATCH pattern for every key of the namespace. */
  readonly pattern: string;
  /** The namespace's hash: store format marker and version floor. */
  readonly meta: string;
  /** Sorted set of the names of queues that hold jobs (score 0, for `names()`). */
  readonly queueNames: string;
  /** Sorted set of the names of logs that hold records (score 0, for `names(prefix)`). */
  readonly logNames: string;
  /** Hash log -> maxAgeMs of the logs appended with an age retention (for the sweeper). */
  readonly logRetention: string;
  /** The start of every stream key as the server sees it (the sweeper builds stream keys). */
  readonly serverLogPrefix: string;
  /**
   * The pub/sub channel prefix of wakeups (`<base>wake:q:<queue>`, `<base>wake:g:<log>`,
   * `<base>wake:l:<resource>`).
   */
  readonly wakePrefix: string;

  constructor(prefix: string, namespace: string, driverKeyPrefix = '') {
    this.base = `${prefix}:{${namespace}}:`;
    this.entryPrefix = `${this.base}k:`;
    this.serverEntryPrefix = driverKeyPrefix + this.entryPrefix;
    this.index = `${this.base}idx`;
    this.pattern = `${this.base.replace(GLOB_SPECIAL, '\\$&')}*`;
    this.meta = `${this.base}meta`;
    this.queueNames = `${this.base}qnames`;
    this.logNames = `${this.base}gnames`;
    this.logRetention = `${this.base}gret`;
    this.serverLogPrefix = `${driverKeyPrefix}${this.base}g:`;
    this.wakePrefix = driverKeyPrefix + `${this.base}wake:`;
  }

  /** The keys of queue `name` (see queues.ts). */
  queue(name: string): { ready: string; delayed: string; inflight: string; jobs: string; dead: string; all: string; seq: string } {
    const q = `${this.base}q:${name}:`;
    return { ready: `${q}ready`, delayed: `${q}delayed`, inflight: `${q}inflight`, jobs: `${q}jobs`, dead: `${q}dead`, all: `${q}all`, seq: `${q}seq` };
  }

  /**
   * The pub/sub channel that wakes listeners of a queue, a log or a lock. The name goes in as
   * is, like a key's: the kind's letter before it keeps the three families apart, and pub/sub
   * channels are exact names (SUBSCRIBE, never PSUBSCRIBE), so no character needs escaping.
   */
  wakeChannel(topic: WakeTopic): string {
    return `${this.wakePrefix}${WAKE_KIND[topic.kind]}:${topic.name}`;
  }

  /** The stream that holds log `name` (its last id is the log's last seq, even after trims). */
  log(name: string): string {
    return `${this.base}g:${name}`;
  }

  /** The hash that stores entry `key`. */
  entry(key: string): string {
    return this.entryPrefix + key;
  }

  /** The string that holds the live lease of lock `resource` (absent when nobody holds it). */
  lease(resource: string): string {
    return `${this.base}l:${resource}`;
  }

  /** The fencing counter of lock `resource`. */
  fencing(resource: string): string {
    return `${this.base}f:${resource}`;
  }

  /**
   * The record of the last lease of lock `resource` (`'<token> <owner> <expiresAt>'`), kept
   * until its holder releases it: never expires, so it tells a lapsed lease from a released one.
   */
  holder(resource: string): string {
    return `${this.base}h:${resource}`;
  }
}
