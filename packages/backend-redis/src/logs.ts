/**
 * Native append-only logs (`NativeLogs`) on Redis Streams: one stream per log,
 * `<base>g:<log>`, entries `0-<seq>` with fields `at` (server TIME) and `j` (the record's
 * JSON). Appends, trims and removals are Lua scripts (`append-3.lua`, `trimLog-3.lua`,
 * `removeRecords-3.lua`); reads are one `XRANGE`. `<base>gnames` lists the logs that hold
 * records (for `names(prefix)`), `<base>gret` the age retention of each log appended with one,
 * which the sweeper (`sweepLogs-3.lua`, {@link RedisLogs.sweep}) applies once per interval.
 */
import type { LogRecord, LogTrim, NativeLogs } from '@agent-state/core';
import type { Cluster, Redis } from 'ioredis';
import type { ScriptContext } from './context.js';
import { wholeMs } from './lock.js';

type Call = <T>(location: string, fn: (client: Redis | Cluster) => Promise<T>) => Promise<T>;

/** Records per `append-2.lua` call: bounds one script's run (a longer batch takes several, in order). */
const APPEND_BATCH = 1_000;

/** Old records one sweep reads at most (the rest go on the next interval). */
const SWEEP_BUDGET = 10_000;

/** Above every character a name may contain, so `[prefix\x7f` closes a prefix range. */
const AFTER_ALL_KEY_CHARS = '\x7f';

export class RedisLogs implements NativeLogs {
  constructor(
    private readonly ctx: ScriptContext,
    private readonly call: Call,
  ) {}

  async append(log: string, records: string[], options?: { retention?: { maxAgeMs?: number; maxLen?: number } }): Promise<{ seq: number; at: number }[]> {
    const stream = this.ctx.keys.log(log);
    const channel = this.ctx.keys.wakeChannel({ kind: 'log', name: log });
    const maxLen = options?.retention?.maxLen;
    const maxAgeMs = options?.retention?.maxAgeMs;
    const out: { seq: number; at: number }[] = [];
    for (let i = 0; i < records.length; i += APPEND_BATCH) {
      const batch = records.slice(i, i + APPEND_BATCH);
      const reply = (await this.ctx.script('append', stream, [
        stream,
        this.ctx.keys.logNames,
        this.ctx.keys.logRetention,
        log,
        channel,
        maxLen === undefined ? '' : Math.max(0, Math.floor(maxLen)),
        maxAgeMs === undefined ? '' : wholeMs(maxAgeMs),
        ...batch,
      ])) as number[];
      const at = reply[0]!;
      for (let j = 1; j < reply.length; j++) out.push({ seq: reply[j]!, at });
    }
    return out;
  }

  async read(log: string, options: { after: number; limit: number }): Promise<LogRecord[]> {
    const stream = this.ctx.keys.log(log);
    const entries = await this.call(stream, (client) => client.xrange(stream, `(0-${Math.max(0, Math.floor(options.after))}`, '+', 'COUNT', options.limit));
    return entries.map(([id, fields]) => ({ seq: Number(id.slice(2)), at: Number(fields[1]), json: fields[3]! }));
  }

  async lastSeq(log: string): Promise<number> {
    const stream = this.ctx.keys.log(log);
    let info: unknown[];
    try {
      info = (await this.call(stream, (client) => client.xinfo('STREAM', stream))) as unknown[];
    } catch (error) {
      if (error instanceof Error && /no such key/i.test(error.message)) return 0;
      throw error;
    }
    const at = info.indexOf('last-generated-id');
    return at < 0 ? 0 : Number(String(info[at + 1]).split('-')[1]);
  }

  async trim(log: string, trim: LogTrim): Promise<number> {
    const stream = this.ctx.keys.log(log);
    const [kind, n] =
      'before' in trim ? ['before', Math.max(0, Math.ceil(trim.before))] : 'keepLast' in trim ? ['keepLast', Math.max(0, Math.floor(trim.keepLast))] : ['olderThanMs', Math.max(0, Math.floor(trim.olderThanMs))];
    return (await this.ctx.script('trimLog', stream, [stream, this.ctx.keys.logNames, this.ctx.keys.logRetention, log, kind, n])) as number;
  }

  async remove(log: string, seqs: readonly number[]): Promise<number> {
    if (seqs.length === 0) return 0;
    const stream = this.ctx.keys.log(log);
    return (await this.ctx.script('removeRecords', stream, [stream, this.ctx.keys.logNames, this.ctx.keys.logRetention, log, ...seqs.map((s) => Math.floor(s))])) as number;
  }

  /**
   * One sweep of age retention over every log that has one (a no-op when another process of
   * the namespace swept less than `intervalMs` ago); how many records went.
   */
  async sweep(intervalMs: number): Promise<number> {
    const k = this.ctx.keys;
    const [removed] = (await this.ctx.script('sweepLogs', k.meta, [k.meta, k.logNames, k.logRetention, intervalMs, k.serverLogPrefix, SWEEP_BUDGET])) as number[];
    return Math.max(0, removed!);
  }

  names(prefix: string): Promise<string[]> {
    const names = this.ctx.keys.logNames;
    const [min, max] = prefix === '' ? ['-', '+'] : [`[${prefix}`, `[${prefix}${AFTER_ALL_KEY_CHARS}`];
    return this.call(names, (client) => client.zrangebylex(names, min, max));
  }
}
