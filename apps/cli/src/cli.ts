/**
 * The one definition of the command line (commander): every command, its options and help,
 * and the top-level handler that maps any error to an exit code and one stderr line. Command
 * modules are imported only when their command runs, so start-up loads commander and nothing
 * else until a command needs the state store.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { processContext, type CommandContext } from './context.js';
import { oneLine, reportError } from './errors.js';
import { EXIT_USAGE } from './exit-codes.js';
import { parseDuration, parseExpectedVersion, parseInteger, parseNumber } from './parse.js';

type Parser<T> = (text: string) => T;

/** Adapts our parsers to commander's error reporting. */
function arg<T>(parse: Parser<T>): Parser<T> {
  return (text) => {
    try {
      return parse(text);
    } catch (error) {
      throw new InvalidArgumentError((error as Error).message);
    }
  };
}

const duration = (option: string) => arg((t) => parseDuration(t, option));
const integer = (option: string) => arg((t) => parseInteger(t, option));
const collect = (value: string, previous: string[] = []) => [...previous, value];

// Commander hands options over untyped; each command validates what it reads.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Opts = any;

/** Builds the context of a command from its options (and the program's `--config`). */
function context(program: Command, opts: Opts): CommandContext {
  return processContext(opts.config ?? (program.opts() as Opts).config);
}

/** Adds the options every command shares. */
function common(cmd: Command): Command {
  return cmd.option('-c, --config <file>', 'project.yml to use (default: search upward from the working directory)');
}

/** The `agent-state` program. */
export function buildProgram(): Command {
  const program = new Command('agent-state')
    .description('Shared state for multi-agent scripts: keys, locks, transactions, queues, pub/sub (reads project.yml)')
    .version('0.1.0')
    .option('-c, --config <file>', 'project.yml to use (default: search upward from the working directory)')
    .showSuggestionAfterError(false)
    .configureOutput({
      // Commander's own errors (unknown option, missing argument) become one usage line.
      outputError: (text, write) => write(`${oneLine('USAGE', text.replace(/^error:\s*/i, ''))}\n`),
    })
    .exitOverride();

  const sub = (spec: string, description: string) => common(program.command(spec).description(description)).exitOverride();
  const ctxOf = (opts: Opts) => context(program, opts);

  sub('get <key>', 'print the value of KEY as JSON (exit 1, nothing printed, when absent)')
    .option('--json', 'print the whole entry: key, value, version, updatedAt, expiresAt')
    .option('--raw', 'print a string value without quotes')
    .action(async (key: string, opts: Opts) => (await import('./commands/get.js')).get(ctxOf(opts), key, opts));

  sub('set <key> [value]', 'write VALUE (JSON; - reads stdin) under KEY')
    .option('--string', 'store VALUE as a string, literally')
    .option('--if-version <n|absent>', 'write only if the current version is N (absent: only if KEY does not exist)', arg(parseExpectedVersion))
    .option('--ttl <duration>', 'time to live (ms, or 30s, 5m, 1h)', duration('--ttl'))
    .option('--fence', 'write only while the lock in AGENT_STATE_LOCK_* (from `lock -- COMMAND`) is held')
    .option('--json', 'print the new entry')
    .action(async (key: string, value: string | undefined, opts: Opts) =>
      (await import('./commands/set.js')).set(ctxOf(opts), key, value, renameTtl(opts)),
    );

  sub('delete <key>', 'delete KEY (exit 0 whether or not it existed)')
    .option('--if-version <n>', 'delete only if the current version is N', arg(parseExpectedVersion))
    .option('--fence', 'delete only while the lock in AGENT_STATE_LOCK_* is held')
    .option('--json', 'print {"deleted":true|false}')
    .action(async (key: string, opts: Opts) => (await import('./commands/delete.js')).del(ctxOf(opts), key, opts));

  sub('list [prefix]', 'one JSON line per live entry under PREFIX, in key order')
    .option('--keys', 'print only the keys, one per line')
    .option('--after <key>', 'only keys after this one')
    .option('--limit <n>', 'at most N entries', integer('--limit'))
    .action(async (prefix: string | undefined, opts: Opts) => (await import('./commands/list.js')).list(ctxOf(opts), prefix, opts));

  sub('update <key> [value]', 'atomic read-modify-write with --expr, or a compare-and-set of VALUE (or stdin) with --if-version')
    .option('-e, --expr <js>', 'JavaScript expression over `value` (null when absent), `entry` and `args`; retried on conflict')
    .option('-a, --arg <name=value>', 'a string visible to --expr as args.NAME (repeatable)', collect)
    .option('--if-version <n|absent>', 'compare-and-set: write VALUE only if the version is still N', arg(parseExpectedVersion))
    .option('--string', 'take VALUE literally as a string')
    .option('--ttl <duration>', 'time to live of the new value', duration('--ttl'))
    .option('--json', 'print the new entry instead of the new value')
    .option('--raw', 'print a string value without quotes')
    .action(async (key: string, value: string | undefined, opts: Opts) =>
      (await import('./commands/update.js')).update(ctxOf(opts), key, value, { ...renameTtl(opts), args: opts.arg ?? [] }),
    );

  sub('incr <key> [by]', 'add BY (default 1) to the number under KEY atomically; print the result')
    .action(async (key: string, by: string | undefined, opts: Opts) =>
      (await import('./commands/incr.js')).incr(ctxOf(opts), key, by === undefined ? 1 : arg((t) => parseNumber(t, 'BY'))(by)),
    );

  sub('lock <resource> [command...]', 'run COMMAND while holding RESOURCE (lease extended while it runs); exit with its code')
    .usage('[options] <resource> -- <command> [args...]')
    .option('--ttl <duration>', 'lease length, extended every ttl/3 (default: lock_timeout, else 30s)', duration('--ttl'))
    .option('--wait <duration>', 'wait this long for a busy lock, then exit LOCK_TIMEOUT (default 10s)', duration('--wait'))
    .addOption(new Option('--hold', 'hold the lock until SIGTERM (used by the shell functions)'))
    .addOption(new Option('--lease-file <file>', 'with --hold: publish PID TOKEN OWNER here'))
    .addOption(new Option('--watch-pid <pid>', 'with --hold: release when this process is gone').argParser(integer('--watch-pid')))
    .action(async (resource: string, command: string[], opts: Opts) => {
      const options = { ...(opts['ttl'] !== undefined && { ttlMs: opts['ttl'] as number }), ...(opts['wait'] !== undefined && { waitMs: opts['wait'] as number }) };
      if (opts['hold']) {
        const { lockHold } = await import('./commands/lock-hold.js');
        return lockHold(ctxOf(opts), resource, {
          ...options,
          ...(opts['leaseFile'] !== undefined && { leaseFile: opts['leaseFile'] as string }),
          ...(opts['watchPid'] !== undefined && { watchPid: opts['watchPid'] as number }),
        });
      }
      return (await import('./commands/lock.js')).lock(ctxOf(opts), resource, command, options);
    });

  const queue = program.command('queue').description('priority queues with leases: push, pop, ack, nack, size');
  const qsub = (spec: string, description: string) => common(queue.command(spec).description(description)).exitOverride();
  qsub('push <queue> [payload]', 'enqueue PAYLOAD (JSON; - reads stdin); print {"id","sequence"}')
    .option('--string', 'take PAYLOAD literally as a string')
    .option('-p, --priority <p>', 'high, normal (default), low or a whole number; larger first')
    .option('--delay <duration>', 'invisible to consumers for this long', duration('--delay'))
    .action(async (name: string, payload: string | undefined, opts: Opts) =>
      (await import('./commands/queue.js')).queuePush(ctxOf(opts), name, payload, {
        ...(opts['string'] !== undefined && { string: true }),
        ...(opts['priority'] !== undefined && { priority: opts['priority'] as string }),
        ...(opts['delay'] !== undefined && { delayMs: opts['delay'] as number }),
      }),
    );
  qsub('pop <queue>', 'claim the next job; print it as JSON with id and leaseId (exit 1 when empty)')
    .option('--lease <duration>', 'how long the claim lasts (default 60s)', duration('--lease'))
    .option('--wait <duration>', 'poll this long for a job before giving up', duration('--wait'))
    .option('--ack', 'ack at once (at-most-once, like the seed plan\'s dequeue_command)')
    .option('--payload', 'print only the payload')
    .option('--raw', 'print only the payload, a string without quotes')
    .addOption(new Option('--shell', 'print "ID LEASE_ID ATTEMPTS" then the raw payload (for the shell functions)'))
    .action(async (name: string, opts: Opts) =>
      (await import('./commands/queue.js')).queuePop(ctxOf(opts), name, {
        ...(opts['lease'] !== undefined && { leaseMs: opts['lease'] as number }),
        ...(opts['wait'] !== undefined && { waitMs: opts['wait'] as number }),
        ack: opts['ack'] === true,
        payload: opts['payload'] === true,
        raw: opts['raw'] === true,
        shell: opts['shell'] === true,
      }),
    );
  qsub('ack <queue> <job-id> <lease-id>', 'remove a claimed job (exit 1 when that claim is no longer current)')
    .action(async (name: string, id: string, leaseId: string, opts: Opts) =>
      (await import('./commands/queue.js')).queueSettle(ctxOf(opts), name, id, leaseId),
    );
  qsub('nack <queue> <job-id> <lease-id>', 'give a claimed job back (visible again after --delay)')
    .option('--delay <duration>', 'invisible for this long first', duration('--delay'))
    .action(async (name: string, id: string, leaseId: string, opts: Opts) =>
      (await import('./commands/queue.js')).queueSettle(ctxOf(opts), name, id, leaseId, (opts['delay'] as number | undefined) ?? 0),
    );
  qsub('size <queue>', 'jobs not yet acked').action(async (name: string, opts: Opts) =>
    (await import('./commands/queue.js')).queueSize(ctxOf(opts), name),
  );

  sub('publish <channel> [message]', 'publish MESSAGE (JSON; - reads stdin); print {"sequence":n}')
    .option('--string', 'take MESSAGE literally as a string')
    .action(async (channel: string, message: string | undefined, opts: Opts) =>
      (await import('./commands/publish.js')).publish(ctxOf(opts), channel, message, opts),
    );

  sub('subscribe <channel>', 'print one JSON line per message published from now on, until SIGINT/SIGTERM')
    .option('--json', 'print the whole delivery: channel, sequence, message, publishedAt, publisher')
    .option('--raw', 'print a string message without quotes')
    .option('--count <n>', 'exit after N messages', integer('--count'))
    .option('--ready-file <file>', 'create FILE once subscribed')
    .action(async (channel: string, opts: Opts) => (await import('./commands/subscribe.js')).subscribe(ctxOf(opts), channel, opts));

  const agents = program.command('agents').description('the agent registry: register, heartbeat, list, unregister');
  const asub = (spec: string, description: string) => common(agents.command(spec).description(description)).exitOverride();
  asub('register <agent-id> [info]', 'register an agent with INFO (JSON, default {})')
    .option('--string', 'take INFO literally as a string')
    .option('--interval <duration>', 'the heartbeat interval it promises (default 5s)', duration('--interval'))
    .option('--ttl <duration>', 'silent this long, it is missing (default 60s)', duration('--ttl'))
    .option('--pid <pid>', 'a local process to watch: missing as soon as it is gone', integer('--pid'))
    .action(async (id: string, info: string | undefined, opts: Opts) =>
      (await import('./commands/agents.js')).agentsRegister(ctxOf(opts), id, info, {
        ...(opts['string'] !== undefined && { string: true }),
        ...(opts['interval'] !== undefined && { heartbeatIntervalMs: opts['interval'] as number }),
        ...(opts['ttl'] !== undefined && { registryTtlMs: opts['ttl'] as number }),
        ...(opts['pid'] !== undefined && { pid: opts['pid'] as number }),
      }),
    );
  asub('heartbeat <agent-id> [metrics]', 'record a heartbeat with METRICS (JSON)')
    .option('--string', 'take METRICS literally as a string')
    .action(async (id: string, metrics: string | undefined, opts: Opts) =>
      (await import('./commands/agents.js')).agentsHeartbeat(ctxOf(opts), id, metrics, opts),
    );
  asub('list', 'one JSON line per agent with its status (healthy, unhealthy, missing)').action(async (opts: Opts) =>
    (await import('./commands/agents.js')).agentsList(ctxOf(opts)),
  );
  asub('unregister <agent-id>', 'remove an agent').action(async (id: string, opts: Opts) =>
    (await import('./commands/agents.js')).agentsUnregister(ctxOf(opts), id),
  );

  sub('health', 'print the backend health report (exit BACKEND_UNAVAILABLE when unreachable)').action(async (opts: Opts) =>
    (await import('./commands/health.js')).health(ctxOf(opts)),
  );

  const tx = program.command('tx').description('a transaction across invocations: begin, read, write, delete, commit, rollback');
  const tsub = (spec: string, description: string) => common(tx.command(spec).description(description)).exitOverride();
  tsub('begin', 'start a transaction; print its id')
    .option('--ttl <duration>', 'discarded if not committed within this (default 1h)', duration('--ttl'))
    .action(async (opts: Opts) => (await import('./commands/tx.js')).txBegin(ctxOf(opts), renameTtl(opts)));
  tsub('read <id> <key>', 'read KEY in the transaction (the version is checked at commit); exit 1 when absent')
    .option('--json', 'print the whole entry')
    .option('--raw', 'print a string value without quotes')
    .action(async (id: string, key: string, opts: Opts) => (await import('./commands/tx.js')).txRead(ctxOf(opts), id, key, opts));
  tsub('write <id> <key> [value]', 'buffer a write of VALUE (JSON; - reads stdin)')
    .option('--string', 'take VALUE literally as a string')
    .option('--ttl <duration>', 'time to live of the written value', duration('--ttl'))
    .action(async (id: string, key: string, value: string | undefined, opts: Opts) =>
      (await import('./commands/tx.js')).txWrite(ctxOf(opts), id, key, value, renameTtl(opts)),
    );
  tsub('delete <id> <key>', 'buffer a delete').action(async (id: string, key: string, opts: Opts) =>
    (await import('./commands/tx.js')).txDelete(ctxOf(opts), id, key),
  );
  tsub('commit <id>', 'apply every write atomically if nothing read has changed (else CONFLICT, nothing written)')
    .option('--json', 'print {"committed":true,"writes":n}')
    .action(async (id: string, opts: Opts) => (await import('./commands/tx.js')).txCommit(ctxOf(opts), id, opts));
  tsub('rollback <id>', 'discard the transaction').action(async (id: string, opts: Opts) =>
    (await import('./commands/tx.js')).txRollback(ctxOf(opts), id),
  );

  sub('batch', 'run JSON requests from stdin, one per line ({"op":"get","key":"a"}); one JSON result per line')
    .action(async (opts: Opts) => (await import('./commands/batch.js')).batch(ctxOf(opts)));

  program
    .command('shell-functions')
    .description('print the bash library: source <(agent-state shell-functions)')
    .action(async () => (await import('./commands/shell-functions.js')).shellFunctions(processContext(undefined)));

  return program;
}

/** Commander names `--ttl` `ttl`; the commands take `ttlMs`. */
function renameTtl<T extends Opts>(opts: T): T & { ttlMs?: number } {
  const { ttl, ...rest } = opts as T & { ttl?: number };
  return (ttl === undefined ? rest : { ...rest, ttlMs: ttl }) as T & { ttlMs?: number };
}

/** Runs the CLI and exits with the code the outcome maps to. */
export async function main(argv: readonly string[]): Promise<never> {
  // A reader that went away (`| head -1`) ends the output quietly, like SIGPIPE would.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
  let exitCode = 0;
  try {
    await buildProgram().parseAsync(argv as string[]);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version print and succeed; anything else was already reported as a usage line.
      exitCode = error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.exitCode === 0 ? 0 : EXIT_USAGE;
    } else {
      const report = reportError(error);
      if (report.line) process.stderr.write(`${report.line}\n`);
      exitCode = report.exitCode;
    }
  }
  process.exit(exitCode);
}
