import type { StateClient } from '../client.js';
import { InvalidValueError } from '../errors.js';
import type { JsonValue } from '../types.js';
import { assertOptions, assertPositive, assertSegment, serializeValue } from '../validate.js';
import { AGENTS_PREFIX, mailKeys, type NamedPriority } from './layout.js';
import { resolvePriority } from './queue.js';

/** A message in a mailbox. */
export interface MailMessage<T extends JsonValue = JsonValue> {
  /** Unique within the receiver's mailbox; pass it to `ack`. */
  id: string;
  from: string;
  to: string;
  message: T;
  priority: number;
  sentAt: number;
}

/** Filters of {@link Mailbox.receive}. */
export interface ReceiveOptions {
  /** Only messages from this agent. */
  from?: string;
  /** Only messages of this priority. */
  priority?: NamedPriority | number;
  /** Only messages sent at or after this epoch ms. */
  since?: number;
  /** At most this many, oldest first. */
  limit?: number;
}

/**
 * One agent's mailbox. `send` delivers to another agent (or to every registered agent with
 * `'broadcast'`); `receive` returns waiting messages oldest first and leaves them there until
 * `ack`, so a receiver that dies before acking loses nothing.
 */
export class Mailbox {
  /** @internal Use `state.mailbox(agentId)`. */
  constructor(
    private readonly state: StateClient,
    readonly agentId: string,
  ) {
    assertSegment(agentId, 'agentId');
  }

  /** Sends `message`; returns the ids it got in each receiving mailbox. */
  async send(to: string, message: JsonValue, options?: { priority?: NamedPriority | number }): Promise<string[]> {
    this.state.guard('send');
    assertSegment(to, 'to');
    assertOptions(options, 'options', ['priority']);
    const priority = resolvePriority(options?.priority);
    serializeValue(message, this.state.config.maxValueBytes, 'message');
    let targets = [to];
    if (to === 'broadcast') {
      targets = [];
      for await (const e of this.state.list({ prefix: AGENTS_PREFIX })) targets.push(e.key.slice(AGENTS_PREFIX.length));
    }
    const ids: string[] = [];
    for (const target of targets) {
      const keys = mailKeys(target);
      const n = await this.state.increment(keys.seq);
      const sentAt = Date.now();
      await this.state.write(keys.message(n), { from: this.agentId, to: target, message, priority, sentAt }, { ifVersion: 'absent' });
      ids.push(keys.message(n).slice(keys.messages.length));
    }
    return ids;
  }

  /** Waiting messages, oldest first; they stay until acked. */
  async receive<T extends JsonValue = JsonValue>(options?: ReceiveOptions): Promise<MailMessage<T>[]> {
    this.state.guard('receive');
    assertOptions(options, 'options', ['from', 'priority', 'since', 'limit']);
    if (options?.from !== undefined) assertSegment(options.from, 'options.from');
    const priority = options?.priority === undefined ? undefined : resolvePriority(options.priority);
    assertPositive(options?.since, 'options.since', { allowZero: true });
    assertPositive(options?.limit, 'options.limit', { integer: true });
    const keys = mailKeys(this.agentId);
    const out: MailMessage<T>[] = [];
    for await (const entry of this.state.list({ prefix: keys.messages })) {
      const m = entry.value as unknown as Omit<MailMessage<T>, 'id'>;
      if (options?.from !== undefined && m.from !== options.from) continue;
      if (priority !== undefined && m.priority !== priority) continue;
      if (options?.since !== undefined && m.sentAt < options.since) continue;
      out.push({ id: entry.key.slice(keys.messages.length), ...m });
      if (options?.limit !== undefined && out.length >= options.limit) break;
    }
    return out;
  }

  /** Removes received messages (by id or message). Acking twice is harmless. */
  async ack(messages: string | MailMessage | readonly (string | MailMessage)[]): Promise<number> {
    this.state.guard('ack');
    const list = Array.isArray(messages) ? messages : [messages];
    const keys = mailKeys(this.agentId);
    let removed = 0;
    for (const m of list as (string | MailMessage)[]) {
      const id = typeof m === 'string' ? m : m?.id;
      if (typeof id !== 'string' || !/^\d{15}$/.test(id)) throw new InvalidValueError('messages', m, 'expected message ids from receive()');
      if (await this.state.delete(`${keys.messages}${id}`)) removed++;
    }
    return removed;
  }
}
