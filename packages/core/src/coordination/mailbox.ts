import type { StateClient } from '../client.js';
import { InvalidValueError } from '../errors.js';
import type { JsonValue, LogRecord } from '../types.js';
import { assertOptions, assertPositive, assertSegment, serializeValue } from '../validate.js';
import { families, wakeOf } from './families.js';
import { AGENTS_PREFIX, mailLog, pad, parseStored, type NamedPriority } from './layout.js';
import { resolvePriority } from './queue.js';
import { assertSignal, blockingWait } from './wait.js';

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
  /** When no message matches, wait up to this long for one (woken by the backend); default 0. */
  waitMs?: number;
  /** Aborting it rejects a waiting `receive` with the signal's reason. */
  signal?: AbortSignal;
}

const PAGE = 256;

/**
 * One agent's mailbox, the log `mail/<agentId>`. `send` delivers to another agent (or to every
 * registered agent with `'broadcast'`); `receive` returns waiting messages oldest first and
 * leaves them there until `ack` (a removal of those records), so a receiver that dies before
 * acking loses nothing.
 */
export class Mailbox {
  /** @internal Use `state.mailbox(agentId)`. */
  constructor(
    private readonly state: StateClient,
    readonly agentId: string,
  ) {
    assertSegment(agentId, 'agentId');
  }

  /**
   * Sends `message`; returns the ids it got in each receiving mailbox.
   * @throws InvalidKeyError (to)
   * @throws InvalidValueError (message, priority)
   * @throws BackendUnavailableError
   * @throws StateClosedError
   */
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
    const logs = families(this.state).logs;
    const ids: string[] = [];
    for (const target of targets) {
      const json = JSON.stringify({ from: this.agentId, to: target, message, priority, sentAt: Date.now() });
      const [appended] = await logs.append(mailLog(target), [json]);
      ids.push(pad(appended!.seq, 15));
    }
    return ids;
  }

  /**
   * Waiting messages, oldest first; they stay until acked. With `waitMs`, waits that long for a
   * matching message when there is none yet (`[]` after it passes).
   * @throws InvalidKeyError (from)
   * @throws InvalidValueError
   * @throws BackendUnavailableError
   * @throws StateClosedError
   * @throws the signal's reason when aborted
   */
  async receive<T extends JsonValue = JsonValue>(options?: ReceiveOptions): Promise<MailMessage<T>[]> {
    this.state.guard('receive');
    assertOptions(options, 'options', ['from', 'priority', 'since', 'limit', 'waitMs', 'signal']);
    if (options?.from !== undefined) assertSegment(options.from, 'options.from');
    const priority = options?.priority === undefined ? undefined : resolvePriority(options.priority);
    assertPositive(options?.since, 'options.since', { allowZero: true });
    assertPositive(options?.limit, 'options.limit', { integer: true });
    assertPositive(options?.waitMs, 'options.waitMs', { allowZero: true });
    assertSignal(options?.signal);
    const f = families(this.state);
    const log = mailLog(this.agentId);
    const look = async (): Promise<MailMessage<T>[] | undefined> => {
      this.state.guard('receive');
      const out: MailMessage<T>[] = [];
      for (let after = 0; ; ) {
        const page: LogRecord[] = await f.logs.read(log, { after, limit: PAGE });
        for (const record of page) {
          const m = parseStored<Omit<MailMessage<T>, 'id'>>(record.json, `mailbox ${this.agentId} message ${record.seq}`);
          if (options?.from !== undefined && m.from !== options.from) continue;
          if (priority !== undefined && m.priority !== priority) continue;
          if (options?.since !== undefined && m.sentAt < options.since) continue;
          out.push({ id: pad(record.seq, 15), ...m });
          if (options?.limit !== undefined && out.length >= options.limit) return out;
        }
        if (page.length < PAGE) break;
        after = page[page.length - 1]!.seq;
      }
      return out.length > 0 ? out : undefined;
    };
    const got = await blockingWait({
      check: look,
      ...wakeOf(f.logWake, { kind: 'log', name: log }),
      waitMs: options?.waitMs ?? 0,
      signal: options?.signal,
      closeSignal: this.state.closeSignal,
    });
    return got ?? [];
  }

  /**
   * Removes received messages (by id or message). Acking twice is harmless.
   * @throws InvalidValueError (an id not from receive())
   * @throws BackendUnavailableError
   * @throws StateClosedError
   */
  async ack(messages: string | MailMessage | readonly (string | MailMessage)[]): Promise<number> {
    this.state.guard('ack');
    const list = (Array.isArray(messages) ? messages : [messages]) as (string | MailMessage)[];
    const seqs = list.map((m, i) => {
      const id = typeof m === 'string' ? m : m?.id;
      if (typeof id !== 'string' || !/^\d{15}$/.test(id)) {
        throw new InvalidValueError(Array.isArray(messages) ? `messages[${i}]` : 'messages', m, 'expected message ids from receive()');
      }
      return Number(id);
    });
    if (seqs.length === 0) return 0;
    return families(this.state).logs.remove(mailLog(this.agentId), seqs);
  }
}
