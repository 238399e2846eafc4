/**
 * `agent-state get KEY` and `incr KEY [BY]` without commander: the calls scripts make most, as a
 * process of their own (the bench's `cli` case times `get` against `node -e 0`) and as requests
 * to the shell coprocess (`batch --serve`, where building the program per request was a tenth
 * of a call). Parsed here when the command line is one of the plain shapes below, so a run loads
 * no argument parser. Anything else (help, an unknown option, a missing or extra argument, a BY
 * that is not a number) goes to the full program, which parses and reports it; both call the same
 * `get` and `incr` with the same options.
 *
 *   get [--json] [--raw] [-c FILE | --config FILE | --config=FILE] [--] KEY   (options in any order)
 *   incr [-c FILE | --config FILE | --config=FILE] [--] KEY [BY]
 *   [-c FILE | --config FILE] get|incr ...
 */
import { processContext, type CommandContext } from './context.js';

/** A plain `get` command line, parsed. */
export interface FastGet {
  command: 'get';
  /** `-c/--config FILE`, when given. */
  config: string | undefined;
  key: string;
  options: { json?: boolean; raw?: boolean };
}

/** A plain `incr` command line, parsed. */
export interface FastIncr {
  command: 'incr';
  /** `-c/--config FILE`, when given. */
  config: string | undefined;
  key: string;
  by: number;
}

/** A plain command line. */
export type FastCommand = FastGet | FastIncr;

/** The action for `argv` when it is a plain command line, else undefined. */
export function fastPath(argv: readonly string[]): (() => Promise<void>) | undefined {
  const parsed = parseFast(argv.slice(2));
  return parsed && (() => runFast(processContext(parsed.config), parsed));
}

/** Runs a parsed plain command line in `ctx` (its `config` is the caller's to apply). */
export async function runFast(ctx: CommandContext, parsed: FastCommand): Promise<void> {
  if (parsed.command === 'get') return (await import('./commands/get/index.js')).get(ctx, parsed.key, parsed.options);
  return (await import('./commands/incr/index.js')).incr(ctx, parsed.key, parsed.by);
}

/** `argv` as a plain `get` (see the shapes above), else undefined. */
export function parseFastGet(argv: readonly string[]): FastGet | undefined {
  const parsed = parseFast(argv.slice(2));
  return parsed?.command === 'get' ? parsed : undefined;
}

/** `args` (the words after `agent-state`) as a plain command line (see the shapes above), else undefined. */
export function parseFast(args: readonly string[]): FastCommand | undefined {
  let config: string | undefined;
  let i = 0;
  // A leading program-level --config.
  if (args[0] === '-c' || args[0] === '--config') {
    if (args[1] === undefined) return undefined;
    config = args[1];
    i = 2;
  }
  const command = args[i];
  if (command !== 'get' && command !== 'incr') return undefined;
  const options: { json?: boolean; raw?: boolean } = {};
  const positional: string[] = [];
  for (i++; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') {
      positional.push(...args.slice(i + 1));
      break;
    }
    if (command === 'get' && a === '--json') options.json = true;
    else if (command === 'get' && a === '--raw') options.raw = true;
    else if (a === '-c' || a === '--config') {
      if (args[i + 1] === undefined) return undefined;
      config = args[++i];
    } else if (a.startsWith('--config=')) config = a.slice('--config='.length);
    else if (a.startsWith('-') && a !== '-') return undefined;
    else positional.push(a);
  }
  if (config === '' || positional.length === 0) return undefined;
  const key = positional[0]!;
  if (command === 'get') return positional.length === 1 ? { command, config, key, options } : undefined;
  if (positional.length > 2) return undefined;
  // The full program's rule for BY (parse.ts parseNumber); anything else it reports.
  const text = positional[1] ?? '1';
  const by = Number(text);
  return text.trim() !== '' && Number.isFinite(by) ? { command, config, key, by } : undefined;
}
