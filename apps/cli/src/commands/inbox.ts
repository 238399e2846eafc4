/**
 * `agent-state inbox AGENT_ID`: print the agent's waiting messages and acknowledge them; exit 1
 * (nothing printed) when there are none. Made for a pre-turn hook (Claude Code
 * `UserPromptSubmit`), so an agent sees new messages at its next turn without polling.
 */
import type { Command } from 'commander';
import type { JsonValue, MailMessage } from '@agent-state/core';
import { withState, type CommandContext } from '../context.js';
import { NotFoundError } from '../errors.js';
import { contextOf, duration, integer, pick, type CommandDefinition, type Opts } from '../program.js';

/** Options of {@link inbox}. */
export interface InboxOptions {
  /** One JSON line per message instead of text. */
  json?: boolean;
  /** Leave the messages waiting (do not ack). */
  peek?: boolean;
  limit?: number;
  /** Wait up to this long for a first message. */
  waitMs?: number;
}

function text(m: MailMessage): string {
  const body = typeof m.message === 'string' ? m.message : JSON.stringify(m.message);
  return `message from ${m.from} (${new Date(m.sentAt).toISOString()}${m.priority ? `, priority ${m.priority}` : ''}): ${body}\n`;
}

/**
 * Prints and acks the waiting messages of `agentId`; `NotFoundError` (exit 1) when none. They
 * are printed before the ack: a process that dies in between leaves them waiting (shown again
 * next time), never lost.
 */
export async function inbox(ctx: CommandContext, agentId: string, options: InboxOptions = {}): Promise<void> {
  await withState(ctx, async (state) => {
    const box = state.mailbox(agentId);
    const got = await box.receive({ ...(options.limit !== undefined && { limit: options.limit }), ...(options.waitMs !== undefined && { waitMs: options.waitMs }) });
    if (got.length === 0) throw new NotFoundError(`no messages for ${agentId}`);
    ctx.stdout(got.map((m) => (options.json ? `${JSON.stringify(m)}\n` : text(m))).join(''));
    if (!options.peek) await box.ack(got.map((m) => m.id));
  });
}

export const inboxCommand: CommandDefinition = {
  spec: 'inbox <agent-id>',
  summary: "print AGENT_ID's waiting messages and ack them (exit 1 when none): for pre-turn hooks",
  define: (cmd) =>
    cmd
      .option('--json', 'one JSON line per message: id, from, to, message, priority, sentAt')
      .option('--peek', 'leave the messages waiting (no ack)')
      .option('--limit <n>', 'at most N messages, oldest first', integer('--limit'))
      .option('--wait <duration>', 'wait this long for a first message (default: do not wait)', duration('--wait'))
      .action(async (agentId: string, opts: Opts, c: Command) =>
        inbox(contextOf(c), agentId, { ...pick(opts, 'json'), ...pick(opts, 'peek'), ...pick(opts, 'limit'), ...pick(opts, 'wait', 'waitMs') }),
      ),
};

export type { JsonValue };
