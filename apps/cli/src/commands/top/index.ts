/**
 * `agent-state top`: the dashboard's picture in the terminal, refreshing like `top` (q or Ctrl-C
 * quits), or once with `--once`. Opens the store itself, or with `--url` reads a running
 * server's `/dashboard/snapshot`. Either way the locks panel lists every lease held in the store
 * (`backend.listLocks()`, as the dashboard), or only this process's where a backend cannot list them.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Snapshot } from '@agent-state/server';
import type { CommandContext } from '../../context.js';
import { openState } from '../../context.js';
import { UsageError } from '../../errors.js';
import { render } from './render.js';

export interface TopOptions {
  once?: boolean;
  intervalMs?: number;
  url?: string;
  tokenFile?: string;
}

function serverToken(ctx: CommandContext, tokenFile: string | undefined): string {
  const env = ctx.env['AGENT_STATE_TOKEN'];
  if (env) return env;
  let file = tokenFile;
  if (file === undefined) {
    // .agent-state/serve.token next to the nearest project.yml, else in the working directory.
    let dir = ctx.cwd;
    for (;;) {
      if (existsSync(join(dir, 'project.yml'))) break;
      const up = dirname(dir);
      if (up === dir) {
        dir = ctx.cwd;
        break;
      }
      dir = up;
    }
    file = join(dir, '.agent-state', 'serve.token');
  }
  if (!existsSync(file)) throw new UsageError(`--url needs the server's token: set AGENT_STATE_TOKEN or pass --token-file (no ${file})`);
  return readFileSync(file, 'utf8').trim();
}

export async function top(ctx: CommandContext, options: TopOptions = {}): Promise<void> {
  const intervalMs = options.intervalMs ?? 1000;
  if (!(intervalMs > 0)) throw new UsageError(`--interval: expected a positive duration, got ${String(options.intervalMs)}`);
  let take: () => Promise<Snapshot>;
  let close = async () => undefined as void;
  if (options.url !== undefined) {
    let base: URL;
    try {
      base = new URL('/dashboard/snapshot', options.url);
    } catch {
      throw new UsageError(`--url: expected an http URL, got ${JSON.stringify(options.url)}`);
    }
    const token = serverToken(ctx, options.tokenFile);
    take = async () => {
      const res = await fetch(base, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(10_000) });
      if (!res.ok) throw new UsageError(`${base.href}: HTTP ${res.status} ${await res.text()}`);
      return (await res.json()) as Snapshot;
    };
  } else {
    const state = ctx.state ?? (await openState(ctx));
    const { SnapshotTaker } = await import('@agent-state/server');
    const taker = new SnapshotTaker(state);
    take = () => taker.take();
    if (!ctx.state) close = () => state.close();
  }

  const color = process.stdout.isTTY === true && ctx.env['NO_COLOR'] === undefined;
  try {
    if (options.once) {
      ctx.stdout(render(await take(), { color }));
      return;
    }
    await loop(ctx, take, intervalMs, color);
  } finally {
    await close();
  }
}

/** Redraws every interval until q, Ctrl-C or the end of stdin. */
async function loop(ctx: CommandContext, take: () => Promise<Snapshot>, intervalMs: number, color: boolean): Promise<void> {
  const stdin = process.stdin;
  const raw = stdin.isTTY === true;
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const onKey = (data: Buffer) => {
    const k = data.toString();
    if (k === 'q' || k === 'Q' || k === '\u0003' || k === '\u001b') done();
  };
  if (raw) stdin.setRawMode(true);
  stdin.on('data', onKey);
  stdin.once('end', () => done());
  stdin.resume();
  process.once('SIGINT', done);
  process.once('SIGTERM', done);
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  void finished.then(() => {
    stopped = true;
    clearTimeout(timer);
  });
  const draw = async () => {
    if (stopped) return;
    let text: string;
    try {
      text = render(await take(), { color, width: process.stdout.columns });
    } catch (error) {
      text = `agent-state top: ${(error as Error).message}\n`;
    }
    if (stopped) return;
    ctx.stdout(`${color ? '\u001b[H\u001b[2J' : '\n'}${text}${color ? '\u001b[2m(q quits)\u001b[0m' : ''}`);
    timer = setTimeout(() => void draw(), intervalMs);
  };
  if (color) ctx.stdout('\u001b[?25l');
  void draw();
  try {
    await finished;
  } finally {
    stdin.off('data', onKey);
    if (raw) stdin.setRawMode(false);
    stdin.pause();
    process.off('SIGINT', done);
    process.off('SIGTERM', done);
    if (color) ctx.stdout('\u001b[?25h\n');
  }
}
