/**
 * `agent-state get KEY` without commander: the one call scripts make most as a process of its
 * own (the bench's `cli` case times it against `node -e 0`), parsed here when its command line
 * is one of the plain shapes below, so a run loads no argument parser. Anything else (help, an
 * unknown option, a missing or extra argument) goes to the full program, which parses and
 * reports it; both call the same `get` with the same options.
 *
 *   get [--json] [--raw] [-c FILE | --config FILE | --config=FILE] [--] KEY   (options in any order)
 *   [-c FILE | --config FILE] get ...
 */
import { processContext } from './context.js';

/** A plain `get` command line, parsed. */
export interface FastGet {
  /** `-c/--config FILE`, when given. */
  config: string | undefined;
  key: string;
  options: { json?: boolean; raw?: boolean };
}

/** The action for `argv` when it is a plain `get`, else undefined. */
export function fastPath(argv: readonly string[]): (() => Promise<void>) | undefined {
  const parsed = parseFastGet(argv);
  if (!parsed) return undefined;
  const { config, key, options } = parsed;
  return async () => (await import('./commands/get/index.js')).get(processContext(config), key, options);
}

/** `argv` as a plain `get` (see the shapes above), else undefined. */
export function parseFastGet(argv: readonly string[]): FastGet | undefined {
  const args = argv.slice(2);
  let config: string | undefined;
  let i = 0;
  // A leading program-level --config.
  if (args[0] === '-c' || args[0] === '--config') {
    if (args[1] === undefined) return undefined;
    config = args[1];
    i = 2;
  }
  if (args[i] !== 'get') return undefined;
  const options: { json?: boolean; raw?: boolean } = {};
  const positional: string[] = [];
  for (i++; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') {
      positional.push(...args.slice(i + 1));
      break;
    }
    if (a === '--json') options.json = true;
    else if (a === '--raw') options.raw = true;
    else if (a === '-c' || a === '--config') {
      if (args[i + 1] === undefined) return undefined;
      config = args[++i];
    } else if (a.startsWith('--config=')) config = a.slice('--config='.length);
    else if (a.startsWith('-') && a !== '-') return undefined;
    else positional.push(a);
  }
  if (positional.length !== 1 || config === '') return undefined;
  return { config, key: positional[0]!, options };
}
