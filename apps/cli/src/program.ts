/**
 * What every command definition (`commands/<name>/command.ts`) is built from: the definition
 * shape, option parsers adapted to commander, and the options all commands share. Nothing here
 * imports core, so defining the program costs only commander.
 */
import { Command, InvalidArgumentError } from 'commander';
import { processContext, type CommandContext } from './context.js';
import { parseDuration, parseExpectedVersion, parseInteger } from './parse.js';

/**
 * One top-level command. `spec` and `summary` are all the program needs to list it and route to
 * it; `define` adds its options, subcommands and action, and runs only for the command being
 * invoked (so start-up does not build 25 commands' options to run one).
 */
export interface CommandDefinition {
  /** `name <arg> [arg]`, as commander takes it. */
  spec: string;
  /** One line for `agent-state --help`. */
  summary: string;
  /** Adds options, subcommands and the action to the command commander created from `spec`. */
  define(cmd: Command): void;
}

// Commander hands options over untyped; each command validates what it reads.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Opts = any;

type Parser<T> = (text: string) => T;

/** Adapts our parsers (which throw UsageError) to commander's error reporting. */
export function arg<T>(parse: Parser<T>): Parser<T> {
  return (text) => {
    try {
      return parse(text);
    } catch (error) {
      throw new InvalidArgumentError((error as Error).message);
    }
  };
}

/** `--ttl 30s` and friends: milliseconds. */
export const duration = (option: string) => arg((t) => parseDuration(t, option));
/** A whole-number option. */
export const integer = (option: string) => arg((t) => parseInteger(t, option));
/** `--if-version N|absent`. */
export const expectedVersion = arg(parseExpectedVersion);
/** A repeatable option collected into an array. */
export const collect = (value: string, previous: string[] = []) => [...previous, value];

const CONFIG_OPTION = ['-c, --config <file>', 'project.yml to use (default: search upward from the working directory)'] as const;

/** Adds the options every command shares (`--config` is accepted before or after the command). */
export function common(cmd: Command): Command {
  return cmd.option(...CONFIG_OPTION).exitOverride();
}

/** The program-level `--config`, for the program itself. */
export function configOption(program: Command): Command {
  return program.option(...CONFIG_OPTION);
}

/** A subcommand of `parent` with the shared options. */
export function subcommand(parent: Command, spec: string, description: string): Command {
  return common(parent.command(spec).description(description));
}

const CONTEXT = Symbol('agent-state context');
type ContextFactory = (configFile: string | undefined) => CommandContext;

/** Makes every command of `program` run in the contexts `factory` builds (the shell coprocess). */
export function setContextFactory(program: Command, factory: ContextFactory): void {
  (program as unknown as Record<symbol, ContextFactory>)[CONTEXT] = factory;
}

/** The context of a command: this process (or the program's factory), and `--config` from the command or the program. */
export function contextOf(cmd: Command): CommandContext {
  let root = cmd;
  while (root.parent) root = root.parent;
  const factory = (root as unknown as Record<symbol, ContextFactory | undefined>)[CONTEXT] ?? processContext;
  // The nearest `--config` wins: `agent-state -c a.yml get -c b.yml k` reads b.yml.
  for (let c: Command | null = cmd; c; c = c.parent) {
    const config = (c.opts() as { config?: string }).config;
    if (config !== undefined) return factory(config);
  }
  return factory(undefined);
}

/** `{ [to]: opts[from] }` when the option was given, `{}` otherwise (exactOptionalPropertyTypes). */
export function pick<T>(opts: Opts, from: string, to: string = from): Record<string, T> {
  return opts[from] === undefined ? {} : { [to]: opts[from] as T };
}
