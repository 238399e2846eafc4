/**
 * `agent-state serve` and `agent-state mcp`: open the configured store once, serve it, stop
 * cleanly on SIGINT/SIGTERM (stop accepting, finish requests in flight, end SSE streams and
 * blocking waits, close the client, exit 0).
 */
import { InvalidConfigError, openState, type OpenStateOptions, type StateClient } from '@agent-state/core';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { buildApp, type App } from './http.js';
import { McpContext, createMcpServer } from './mcp.js';
import { Ops } from './ops.js';
import { defaultTokenFile, resolveToken } from './token.js';

/** Options of {@link serve}. */
export interface ServeOptions extends OpenStateOptions {
  host?: string;
  port?: number;
  tokenFile?: string;
  allowHosts?: string[];
  /** Dashboard actions (`--dashboard-actions`); default off. */
  dashboardActions?: boolean;
  /** Dashboard refresh; default 1000 ms. */
  dashboardIntervalMs?: number;
  /** SSE `: ping` interval; default 15 000 ms. */
  pingMs?: number;
  /** Where the ready lines and warnings go; default stdout/stderr. */
  out?: (line: string) => void;
  err?: (line: string) => void;
}

/** A running server. */
export interface RunningServer {
  url: string;
  port: number;
  token: string;
  state: StateClient;
  app: App;
  /** Graceful stop; resolves once everything is closed. */
  stop(): Promise<void>;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1']);

/** Starts the HTTP server (and `/mcp`) and prints the ready line. */
export async function serve(options: ServeOptions = {}): Promise<RunningServer> {
  const out = options.out ?? ((line) => void process.stdout.write(`${line}\n`));
  const err = options.err ?? ((line) => void process.stderr.write(`${line}\n`));
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 7878;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidConfigError('--port', '', `expected a port 0-65535, got ${String(port)}`);
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  const state = await openState({ ...options, cwd, env });
  try {
    const tokenFile = options.tokenFile ?? defaultTokenFile(state.config.source, cwd);
    const { token, source } = resolveToken(env as NodeJS.ProcessEnv, tokenFile);
    const allowHosts = [...(options.allowHosts ?? [])];
    if (!LOOPBACK_HOSTS.has(host) && host !== '0.0.0.0' && host !== '::') allowHosts.push(host.includes(':') ? `[${host}]` : host);
    const app = buildApp(state, {
      token,
      allowHosts,
      dashboardActions: options.dashboardActions === true,
      ...(options.dashboardIntervalMs !== undefined && { dashboardIntervalMs: options.dashboardIntervalMs }),
      ...(options.pingMs !== undefined && { pingMs: options.pingMs }),
    });
    await app.fastify.listen({ host, port });
    const address = app.fastify.server.address();
    const bound = typeof address === 'object' && address ? address.port : port;
    const shown = host.includes(':') ? `[${host}]` : host;
    const url = `http://${shown}:${bound}`;
    if (!LOOPBACK_HOSTS.has(host)) err(`agent-state serve: warning: listening on ${host}, not loopback; the traffic is plain HTTP: put TLS in front`);
    out(`agent-state serve: listening on ${url} (backend ${state.backendName}, namespace ${state.namespace})`);
    out(`agent-state serve: token from ${source}`);
    out(`agent-state serve: dashboard ${url}/?token=${encodeURIComponent(token)}${options.dashboardActions ? ' (actions on)' : ''}`);
    let stopping: Promise<void> | undefined;
    const stop = () =>
      (stopping ??= (async () => {
        app.abortAll();
        // Connections that finish their request while we close become idle keep-alive ones:
        // close those as they appear, so a client's connection pool never holds the stop up.
        const sweep = setInterval(() => app.fastify.server.closeIdleConnections(), 50);
        try {
          await app.fastify.close();
        } finally {
          clearInterval(sweep);
        }
        await state.close();
      })());
    return { url, port: bound, token, state, app, stop };
  } catch (error) {
    await state.close().catch(() => undefined);
    throw error;
  }
}

/** Stops `server` on the first SIGINT/SIGTERM, then exits 0 (1 if the stop failed). */
export function stopOnSignals(stop: () => Promise<void>, err: (line: string) => void = (l) => void process.stderr.write(`${l}\n`)): void {
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) return;
    signalled = true;
    err(`agent-state: ${signal}, stopping`);
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        err(`agent-state: stop failed: ${(error as Error).message}`);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
}

/** `agent-state serve`: runs until SIGINT/SIGTERM. */
export async function runServe(options: ServeOptions = {}): Promise<RunningServer> {
  const server = await serve(options);
  stopOnSignals(server.stop, options.err);
  return server;
}

/** `agent-state mcp`: the tool set over stdio until stdin ends or a signal comes. */
export async function runMcpStdio(options: OpenStateOptions = {}): Promise<void> {
  const state = await openState(options);
  const server = createMcpServer(new McpContext(new Ops(state)));
  const transport = new StdioServerTransport();
  let stopped: Promise<void> | undefined;
  // Closing the server closes the transport, whose onclose calls stop again: the promise must
  // exist before the first close starts.
  const stop = (): Promise<void> => {
    if (stopped) return stopped;
    let done!: () => void;
    stopped = new Promise<void>((r) => (done = r));
    void (async () => {
      await server.close().catch(() => undefined);
      await state.close().catch(() => undefined);
      done();
    })();
    return stopped;
  };
  transport.onclose = () => void stop().then(() => process.exit(0));
  process.stdin.once('end', () => void stop().then(() => process.exit(0)));
  stopOnSignals(stop);
  await server.connect(transport);
}
