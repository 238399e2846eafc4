/**
 * `agent-state batch --serve DIR`: the long-lived process behind the shell functions, so a loop
 * of `communication_backend_*` calls pays one Node start, not one per call.
 *
 * Protocol (all in DIR, made by the shell library):
 * - `DIR/requests`, a FIFO every shell (and subshell) of the session writes requests to. A
 *   request is NUL-terminated fields: `REPLY STDIN NENV ENV... ARGC ARG...` where ARG... is an
 *   ordinary command line (`get --raw -- key`), REPLY the requester's own FIFO, STDIN a file
 *   to use as the command's standard input (or empty), ENV `NAME=VALUE` overrides (the lease of
 *   `lock -- ...` for `--fence`). Requests are a few hundred bytes, so each `printf` of one is a
 *   single atomic pipe write: concurrent `( … ) &` subshells never interleave.
 * - The reply goes to REPLY: a header of exactly HEADER_BYTES, `EXIT OUT_BYTES ERR_BYTES TEXT\n`
 *   (numbers right-aligned in fields of 3, 10 and 10; TEXT `a` when the body is all ASCII, so it
 *   has as many characters as bytes in any locale, else `b`), then exactly what the one-shot
 *   command would have written to stdout, then to stderr. A fixed size lets bash read the header
 *   with one `read -N` (a line it reads a byte per system call) and the body with one more.
 *   Each requester (one per shell process, by BASHPID) has its own reply FIFO, so replies never
 *   cross. The FIFO is unlinked once opened.
 * - Requests run concurrently (a blocking `wait` in one subshell holds up nobody else), on one
 *   client opened at start; the server exits when every shell holding the request FIFO is gone
 *   (end of file), after the requests in flight.
 */
import { close, constants, openSync, writeSync } from 'node:fs';
import { readFile, rm, unlink } from 'node:fs/promises';
import { Socket } from 'node:net';
import { basename, join } from 'node:path';
import { Readable } from 'node:stream';
import type { StateClient } from '@agent-state/core';
import { openState, type CommandContext } from '../../context.js';
import { reportError } from '../../errors.js';
import { parseFast, runFast } from '../../fast-path.js';
import { processAlive } from '../../pid.js';

/** How long a reply may wait for its reader before it is dropped. */
const REPLY_STALL_MS = 30_000;

/** Commands the coprocess runs; the others need the terminal, signals or a process of their own. */
const SERVED = new Set(['get', 'set', 'delete', 'list', 'update', 'incr', 'wait', 'repair', 'queue', 'log', 'publish', 'agents', 'health', 'tx']);

interface Request {
  reply: string;
  stdin: string;
  env: Record<string, string>;
  args: string[];
}

/** Serves requests from `dir/requests` until every writer is gone. */
export async function serve(ctx: CommandContext, dir: string): Promise<void> {
  const state = await openState(ctx);
  // A plain copy, taken once: spreading process.env (a getter per variable) cost every request.
  const base = { ...ctx, env: { ...ctx.env } };
  const replies = new ReplyChannels();
  const inFlight = new Set<Promise<void>>();
  try {
    for await (const request of requests(requestStream(join(dir, 'requests')))) {
      const done: Promise<void> = handle(state, base, request, replies).finally(() => inFlight.delete(done));
      inFlight.add(done);
    }
    await Promise.all(inFlight);
  } finally {
    replies.closeAll();
    await state.close().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}

async function handle(state: StateClient, base: CommandContext, request: Request, replies: ReplyChannels): Promise<void> {
  let out = '';
  let err = '';
  let exitCode = 0;
  try {
    const stdin = request.stdin ? await readFile(request.stdin) : Buffer.alloc(0);
    if (request.stdin) await unlink(request.stdin).catch(() => undefined);
    exitCode = await run(request.args, {
      cwd: base.cwd,
      env: { ...base.env, ...request.env },
      stdout: (t) => void (out += t),
      stderr: (t) => void (err += t),
      stdin: Readable.from([stdin]),
      state,
    });
  } catch (error) {
    const report = reportError(error);
    if (report.line) err += `${report.line}\n`;
    exitCode = report.exitCode;
  }
  await replies.send(request.reply, reply(exitCode, out, err));
}

/** The size of a reply's header (see the protocol above). */
export const HEADER_BYTES = 28;

/** A reply: the fixed-size header, then stdout's and stderr's bytes. */
export function reply(exitCode: number, out: string, err: string): Buffer {
  const body = Buffer.from(out + err);
  const outBytes = Buffer.byteLength(out);
  const text = body.length === out.length + err.length ? 'a' : 'b';
  const header = `${String(exitCode).padStart(3)} ${String(outBytes).padStart(10)} ${String(body.length - outBytes).padStart(10)} ${text}\n`;
  return Buffer.concat([Buffer.from(header), body]);
}

/** Runs one command line in `ctx`; its exit code. */
async function run(args: string[], ctx: CommandContext): Promise<number> {
  const { buildProgram } = await import('../../cli.js');
  const { setContextFactory } = await import('../../program.js');
  const name = args.find((a) => !a.startsWith('-'));
  if (name === undefined || !SERVED.has(name) || (name === 'log' && args.includes('follow'))) {
    ctx.stderr(`agent-state: USAGE: ${name ?? 'that'} does not run in the shell coprocess (run it as its own process)\n`);
    return 2;
  }
  // The plain `get` and `incr` the shell functions send most, without building the program.
  const fast = parseFast(args);
  if (fast !== undefined && fast.config === undefined) {
    await runFast(ctx, fast);
    return 0;
  }
  const argv = ['node', 'agent-state', ...args];
  const program = buildProgram(argv);
  program.configureOutput({
    writeOut: (t) => ctx.stdout(t),
    writeErr: (t) => ctx.stderr(t),
    outputError: (t, write) => write(`agent-state: USAGE: ${t.replace(/^error:\s*/i, '').trim()}\n`),
  });
  // Subcommands inherit output settings only when created after configureOutput; set them all.
  const configure = (c: typeof program) => {
    for (const sub of c.commands) {
      sub.configureOutput(program.configureOutput());
      configure(sub);
    }
  };
  configure(program);
  // A request with its own --config opens its own client; the rest share the server's.
  setContextFactory(program, (configFile) =>
    configFile === undefined ? ctx : { cwd: ctx.cwd, env: ctx.env, configFile, stdout: ctx.stdout, stderr: ctx.stderr, stdin: ctx.stdin },
  );
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (error) {
    const { CommanderError } = await import('commander');
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    throw error;
  }
}

/**
 * The request FIFO as a stream read through the event loop (a pipe handle, woken by epoll)
 * rather than by blocking reads on the thread pool, which cost each request a hand-over between
 * threads. Opened non-blocking: the shell that started this server holds its write end already.
 */
function requestStream(path: string): Socket {
  return new Socket({ fd: openSync(path, constants.O_RDONLY | constants.O_NONBLOCK), readable: true, writable: false });
}

/** Splits the request stream into requests (NUL-terminated fields). */
async function* requests(stream: AsyncIterable<Buffer | string>): AsyncGenerator<Request> {
  let fields: string[] = [];
  let partial: Buffer[] = [];
  for await (const chunk of stream) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    let start = 0;
    for (let i = buf.indexOf(0); i !== -1; i = buf.indexOf(0, start)) {
      partial.push(buf.subarray(start, i));
      fields.push(Buffer.concat(partial).toString('utf8'));
      partial = [];
      start = i + 1;
      const request = complete(fields);
      if (request) {
        fields = [];
        yield request;
      }
    }
    if (start < buf.length) partial.push(buf.subarray(start));
  }
}

/** A request once all its fields are in, else undefined. */
function complete(fields: string[]): Request | undefined {
  if (fields.length < 4) return undefined;
  const nEnv = Number(fields[2]);
  if (fields.length < 4 + nEnv) return undefined;
  const argc = Number(fields[3 + nEnv]);
  if (fields.length < 4 + nEnv + argc) return undefined;
  const env: Record<string, string> = {};
  for (const pair of fields.slice(3, 3 + nEnv)) {
    const eq = pair.indexOf('=');
    if (eq > 0) env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return { reply: fields[0]!, stdin: fields[1]!, env, args: fields.slice(4 + nEnv, 4 + nEnv + argc) };
}

/**
 * The requesters' reply FIFOs, opened once each (non-blocking, so a requester that died never
 * blocks the server) and unlinked at once; closed when their process is gone. A reply is written
 * with `writeSync`: a pipe write of a few bytes never blocks (O_NONBLOCK), and skips the thread
 * pool's round trip that an asynchronous write costs every call.
 */
class ReplyChannels {
  readonly #fds = new Map<string, number>();
  readonly #sweep = setInterval(() => this.#closeDead(), 5_000).unref();

  async send(path: string, data: Buffer): Promise<void> {
    try {
      let fd = this.#fds.get(path);
      if (fd === undefined) {
        fd = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
        this.#fds.set(path, fd);
        await unlink(path).catch(() => undefined);
      }
      let offset = 0;
      let stalledSince: number | undefined;
      while (offset < data.length) {
        try {
          offset += writeSync(fd, data, offset);
          stalledSince = undefined;
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
          // A reply over 64 KiB: the requester is still reading. One that stops reading for
          // REPLY_STALL_MS (gone, its FIFO kept open by a child) gets no more.
          stalledSince ??= Date.now();
          if (Date.now() - stalledSince > REPLY_STALL_MS) throw error;
          await new Promise((r) => setTimeout(r, 1));
        }
      }
    } catch {
      // The requester is gone (ENXIO, EPIPE): nobody to answer.
      this.#drop(path);
    }
  }

  #drop(path: string): void {
    const fd = this.#fds.get(path);
    this.#fds.delete(path);
    if (fd !== undefined) close(fd, () => undefined);
  }

  #closeDead(): void {
    for (const path of this.#fds.keys()) {
      const pid = Number(/^r\.(\d+)/.exec(basename(path))?.[1]);
      if (Number.isInteger(pid) && !processAlive(pid)) this.#drop(path);
    }
  }

  closeAll(): void {
    clearInterval(this.#sweep);
    for (const path of [...this.#fds.keys()]) this.#drop(path);
  }
}
