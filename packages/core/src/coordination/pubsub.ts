import type { StateClient } from '../client.js';
import { InvalidValueError } from '../errors.js';
import type { JsonValue } from '../types.js';
import { assertOptions, assertPositive, assertSegment, serializeValue } from '../validate.js';
import { channelKeys } from './layout.js';

/** Options of {@link StateClient.subscribe}. */
export interface SubscribeOptions {
  /** Poll interval while messages flow, in ms (default 5); it backs off to `idlePollMs` when quiet. */
  pollMs?: number;
  /** Poll interval once the channel is quiet (default 100 ms). */
  idlePollMs?: number;
  /**
   * Receives errors: a handler that threw (the subscription then stops) or a failed poll (it
   * retries). Without it, a handler error is re-thrown asynchronously, like an unhandled 'error'.
   */
  onError?: (error: unknown) => void;
}

/** Options of {@link StateClient.publish}. */
export interface PublishOptions {
  /** How long a message stays readable for slow subscribers; default 60 000 ms. */
  retentionMs?: number;
}

/** A delivered message. */
export interface ChannelMessage<T extends JsonValue = JsonValue> {
  channel: string;
  /** Position in the channel: strictly increasing, in publish (commit) order. */
  sequence: number;
  message: T;
  publishedAt: number;
  /** Client id of the publisher. */
  publisher: string;
}

/** Unsubscribes; resolves once no more messages will be delivered. */
export type Unsubscribe = () => Promise<void>;

const DEFAULT_RETENTION_MS = 60_000;

/**
 * Appends `message` to the channel's log: the counter and the message are written in one
 * transaction, so every number up to the counter exists (until retention) and commit order is
 * publish order.
 */
export async function publish(
  state: StateClient,
  channel: string,
  message: JsonValue,
  options?: PublishOptions,
): Promise<{ sequence: number }> {
  state.guard('publish');
  assertSegment(channel, 'channel');
  assertOptions(options, 'options', ['retentionMs']);
  assertPositive(options?.retentionMs, 'options.retentionMs');
  serializeValue(message, state.config.maxValueBytes, 'message');
  const publishedAt = Date.now();
  const native = state.backend.pubsub;
  if (native) {
    const sequence = nextNativeSequence(state);
    await native.publish(channel, JSON.stringify({ message, publishedAt, publisher: state.clientId, sequence }));
    return { sequence };
  }
  const keys = channelKeys(channel);
  const sequence = await state.transaction(
    async (tx) => {
      const n = (((await tx.read(keys.seq))?.value as number | undefined) ?? 0) + 1;
      tx.write(keys.seq, n);
      tx.write(keys.message(n), { message, publishedAt, publisher: state.clientId }, { ttlMs: options?.retentionMs ?? DEFAULT_RETENTION_MS });
      return n;
    },
    { maxRetries: 10_000 },
  );
  return { sequence };
}

const nativeSequences = new WeakMap<StateClient, number>();

/** On a native channel, `sequence` counts per publishing client. */
function nextNativeSequence(state: StateClient): number {
  const n = (nativeSequences.get(state) ?? 0) + 1;
  nativeSequences.set(state, n);
  return n;
}

/** A subscriber following one channel's log (or the backend's native channel). */
export class Subscription {
  #cursor = 0;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #running: Promise<void> | undefined;
  #delay: number;

  constructor(
    private readonly state: StateClient,
    readonly channel: string,
    private readonly handler: (message: ChannelMessage) => void | Promise<void>,
    private readonly options: SubscribeOptions,
  ) {
    this.#delay = options.pollMs ?? 5;
  }

  #unwatch: (() => void) | (() => Promise<void>) | undefined;
  #chain: Promise<void> = Promise.resolve();
  #wokenWhileRunning = false;

  /** Reads the current position, so only messages published from now on are delivered. */
  async start(): Promise<void> {
    const native = this.state.backend.pubsub;
    if (native) {
      this.#unwatch = await native.subscribe(this.channel, (json) => {
        // Deliver strictly one at a time, in arrival order, even if the handler is async.
        this.#chain = this.#chain.then(() => this.#deliverNative(json));
      });
      return;
    }
    const seqKey = channelKeys(this.channel).seq;
    this.#cursor = ((await this.state.read(seqKey))?.value as number | undefined) ?? 0;
    // A backend that can tell when the counter changes wakes the poller at once.
    this.#unwatch = this.state.backend.watch?.(seqKey, () => this.#wake());
    this.#schedule();
  }

  /** Stops delivery; waits for a delivery in progress. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#unwatch?.();
    await this.#running;
    await this.#chain;
  }

  async #deliverNative(json: string): Promise<void> {
    if (this.#stopped) return;
    const { message, publishedAt, publisher, sequence } = JSON.parse(json) as Omit<ChannelMessage, 'channel'>;
    try {
      await this.handler({ channel: this.channel, sequence, message, publishedAt, publisher });
    } catch (error) {
      this.#fail(error);
    }
  }

  #fail(error: unknown): void {
    this.#stopped = true;
    void this.#unwatch?.();
    if (this.options.onError) this.options.onError(error);
    else
      setImmediate(() => {
        throw error;
      });
  }

  #wake(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#wokenWhileRunning = true;
      return;
    }
    clearTimeout(this.#timer);
    this.#delay = 0;
    this.#schedule();
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#running = this.#poll().finally(() => {
        this.#running = undefined;
        if (this.#wokenWhileRunning) {
          this.#wokenWhileRunning = false;
          this.#delay = 0;
        }
        this.#schedule();
      });
    }, this.#delay);
  }

  async #poll(): Promise<void> {
    const keys = channelKeys(this.channel);
    const fast = this.options.pollMs ?? 5;
    const idle = this.options.idlePollMs ?? 100;
    let head: number;
    try {
      head = ((await this.state.read(keys.seq))?.value as number | undefined) ?? 0;
    } catch (error) {
      if (this.#stopped || this.state.closed) return;
      this.options.onError?.(error);
      this.#delay = idle;
      return;
    }
    if (head <= this.#cursor) {
      this.#delay = Math.min(idle, Math.ceil(this.#delay * 1.5));
      return;
    }
    this.#delay = fast;
    try {
      for await (const entry of this.state.list({ prefix: keys.messages, after: keys.message(this.#cursor) })) {
        const sequence = Number(entry.key.slice(keys.messages.length));
        if (sequence > head) break;
        const { message, publishedAt, publisher } = entry.value as { message: JsonValue; publishedAt: number; publisher: string };
        if (this.#stopped) return;
        this.#cursor = sequence;
        try {
          await this.handler({ channel: this.channel, sequence, message, publishedAt, publisher });
        } catch (error) {
          this.#fail(error);
          return;
        }
      }
      // Messages between the cursor and head that expired before we read them are gone: move on.
      this.#cursor = Math.max(this.#cursor, head);
    } catch (error) {
      if (this.#stopped || this.state.closed) return;
      this.options.onError?.(error);
    }
  }
}

/** Validates subscribe arguments. */
export function checkSubscribe(channel: unknown, handler: unknown, options: unknown): void {
  assertSegment(channel, 'channel');
  if (typeof handler !== 'function') throw new InvalidValueError('handler', handler, 'expected a function');
  assertOptions(options, 'options', ['pollMs', 'idlePollMs', 'onError']);
  const o = options as SubscribeOptions | undefined;
  assertPositive(o?.pollMs, 'options.pollMs');
  assertPositive(o?.idlePollMs, 'options.idlePollMs');
}
