/** `agent-state send FROM TO MESSAGE`: put MESSAGE in TO's mailbox (`broadcast`: every registered agent). */
import type { Command } from 'commander';
import type { JsonValue } from '@agent-state/core';
import { withState, type CommandContext } from '../context.js';
import { contextOf, pick, type CommandDefinition, type Opts } from '../program.js';

/** Options of {@link send}. */
export interface SendOptions {
  /** Parse MESSAGE as JSON instead of sending the text. */
  json?: boolean;
  priority?: string;
}

/** Sends; prints the message ids (one per receiving mailbox) as a JSON array. */
export async function send(ctx: CommandContext, from: string, to: string, message: string, options: SendOptions = {}): Promise<void> {
  const { parseValue, readAll } = await import('../io.js'); // io.js loads core: only when the command runs
  const raw = message === '-' ? (await readAll(ctx.stdin)).replace(/\n$/, '') : message;
  const value: JsonValue = options.json ? parseValue(raw, {}, 'message') : raw;
  const priority = options.priority === undefined ? undefined : /^-?\d+$/.test(options.priority) ? Number(options.priority) : options.priority;
  const ids = await withState(ctx, (state) =>
    state.mailbox(from).send(to, value, priority === undefined ? undefined : { priority: priority as 'high' | 'normal' | 'low' | number }),
  );
  ctx.stdout(`${JSON.stringify(ids)}\n`);
}

export const sendCommand: CommandDefinition = {
  spec: 'send <from> <to> <message>',
  summary: 'send MESSAGE (text; --json to parse; - reads stdin) from FROM to agent TO or broadcast',
  define: (cmd) =>
    cmd
      .option('--json', 'MESSAGE is JSON')
      .option('-p, --priority <p>', 'high, normal (default), low or a whole number')
      .action(async (from: string, to: string, message: string, opts: Opts, c: Command) =>
        send(contextOf(c), from, to, message, { ...pick(opts, 'json'), ...pick(opts, 'priority') }),
      ),
};
