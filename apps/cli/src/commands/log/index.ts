/**
 * `agent-state log append|read|follow NAME`: append-only logs (the seeds' pipeline.log,
 * progress.txt ...). `read` prints one JSON line per record, `{"seq","at","record"}` (or the
 * record alone with `--record`); `follow` keeps printing new records as they land (woken by the
 * backend, no polling) until SIGINT/SIGTERM or `--count N`.
 */
import type { JsonValue, LogEntry, StateClient } from '@agent-state/core';
import type { CommandContext } from '../../context.js';
import { withState } from '../../context.js';
import { formatValue, readValue, type PrintOptions, type ValueOptions } from '../../io.js';

/** How records are printed. */
export interface LogPrintOptions extends PrintOptions {
  /** Print only the record (a string without quotes with `--raw`), not `{seq, at, record}`. */
  record?: boolean;
}

/** Options of {@link logRead}. */
export interface LogReadOptions extends LogPrintOptions {
  /** Only records with seq > after. */
  after?: number;
  /** At most this many. */
  limit?: number;
}

/** Options of {@link logFollow}. */
export interface LogFollowOptions extends LogPrintOptions {
  /** Start after this seq (default: only records appended from now on). */
  after?: number;
  /** Exit after this many records. */
  count?: number;
}

const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** Appends one record; resolves to `{seq, at}`. */
export function logAppendOp(state: StateClient, name: string, record: JsonValue): Promise<{ seq: number; at: number }> {
  return state.log(name).append(record);
}

/** Reads records after `after`, oldest first. */
export async function logReadOp(state: StateClient, name: string, options: { after?: number; limit?: number }): Promise<LogEntry[]> {
  const out: LogEntry[] = [];
  const read = state.log(name).read({
    ...(options.after !== undefined && { after: options.after }),
    ...(options.limit !== undefined && { limit: options.limit }),
  });
  for await (const r of read) out.push(r);
  return out;
}

function format(r: LogEntry, options: LogPrintOptions): string {
  return options.record ? formatValue(r.record, options) : `${JSON.stringify({ seq: r.seq, at: r.at, record: r.record })}\n`;
}

/** `log append NAME RECORD|-`: prints `{"seq":…,"at":…}`. */
export async function logAppend(ctx: CommandContext, name: string, text: string | undefined, options: ValueOptions = {}): Promise<void> {
  const record = await readValue(text, options, ctx.stdin, 'record');
  const result = await withState(ctx, (state) => logAppendOp(state, name, record));
  ctx.stdout(`${JSON.stringify(result)}\n`);
}

/** `log read NAME`: every record (after `--after`), one line each. */
export async function logRead(ctx: CommandContext, name: string, options: LogReadOptions = {}): Promise<void> {
  const records = await withState(ctx, (state) => logReadOp(state, name, options));
  ctx.stdout(records.map((r) => format(r, options)).join(''));
}

/** `log follow NAME`: new records as they land, until a signal or `--count`. */
export async function logFollow(ctx: CommandContext, name: string, options: LogFollowOptions = {}): Promise<void> {
  if (options.count === 0) return;
  await withState(ctx, async (state) => {
    const abort = new AbortController();
    const stop = () => abort.abort();
    for (const signal of STOP_SIGNALS) process.on(signal, stop);
    let seen = 0;
    try {
      const follow = state.log(name).follow({ signal: abort.signal, ...(options.after !== undefined && { after: options.after }) });
      for await (const r of follow) {
        ctx.stdout(format(r, options));
        if (options.count !== undefined && ++seen >= options.count) break;
      }
    } catch (error) {
      if (!abort.signal.aborted) throw error;
    } finally {
      for (const signal of STOP_SIGNALS) process.off(signal, stop);
    }
  });
}
