import type { StateClient } from '../client.js';
import { InvalidValueError } from '../errors.js';
import type { JsonValue } from '../types.js';
import { assertOptions, assertPositive, assertSegment, serializeValue } from '../validate.js';
import { families, wakeOf } from './families.js';
import { channelLog, parseStored } from './layout.js';
import { blockingWait } from './wait.js';

/** Options of {@link StateClient.subscribe}. */
export interface SubscribeOptions {
  /**
   * Receives a handler's error or a failed read of the channel; the subscription goes on with
   * the next message. Without it, such an error ends the subscription and rejects `closed`.
   */
  onError?: (error: unknown) => void;
  /** Replay retained messages with a sequence greater than this first (default: only new ones). */
  after?: number;
  /** Longest pause between two reads when no wakeup arrives, in ms (default: the backend's; ≤ 1 000). */
  idlePollMs?: number;
  /** @deprecated Kept so first-wave callers still validate; wakeups make it unnecessary. */
  pollMs?: number;
}

/** Options of {@link StateClient.publish}. */
export interface PublishOptions {
  /** How long a message stays readable for slow subscribers and `after` replays; default 60 000 ms. */
  retentionMs?: number;
}

/** A delivered message. */
export interface ChannelMessage<T extends JsonValue = JsonValue> {
  channel: string;
  /** Position in the channel: strictly increasing, global per channel, in publish (commit) order. */
  sequence: number;
  message: T;
  publishedAt: number;
  /** Client id of the publisher. */
  publisher: string;
}

/** Unsubscribes; resolves once no more messages will be delivered. */
export type Unsubscribe = () => Promise<void>;

/**
 * A running subscription. Callable as the first wave's unsubscribe function; `close()` does the
 * same; `closed` settles when it ends: resolves after `close()` (or the client's), rejects with
 * the error that ended it. `closed` is already handled, so ignoring it never makes an unhandled
 * rejection.
 */
export interface Subscription {
  (): Promise<void>;
  readonly channel: string;
  /** Stops delivery; resolves once the handler will not be called again. */
  close(): Promise<void>;
  readonly closed: Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** The record a channel's log holds (the first wave's message shape). */
interface ChannelRecord {
  message: JsonValue;
  publishedAt: number;
  publisher: string;
}

const DEFAULT_RETENTION_MS = 60_000;
const PAGE = 256;

/** Validates publish arguments; returns the record's JSON. */
function checkPublish(state: StateClient, channel: unknown, message: unknown, options: unknown): { json: string; retentionMs: number } {
  assertSegment(channel, 'channel');
  assertOptions(options, 'options', ['retentionMs']);
  const o = options as PublishOptions | undefined;
  assertPositive(o?.retentionMs, 'options.retentionMs');
  serializeValue(message, state.config.maxValueBytes, 'message');
  const record: ChannelRecord = { message: message as JsonValue, publishedAt: Date.now(), publisher: state.clientId };
  return { json: JSON.stringify(record), retentionMs: o?.retentionMs ?? DEFAULT_RETENTION_MS };
}

/**
 * Appends `message` to the channel's log `ch/<channel>` (retained `retentionMs`); the log's seq
 * is the message's sequence, global per channel.
 */
export async function publish(state: StateClient, channel: string, message: JsonValue, options?: PublishOptions): Promise<{ sequence: number }> {
  state.guard('publish');
  const { json, retentionMs } = checkPublish(state, channel, message, options);
  const [appended] = await families(state).logs.append(channelLog(channel), [json], { retention: { maxAgeMs: retentionMs } });
  return { sequence: appended!.seq };
}

/** Validates subscribe arguments. */
export function checkSubscribe(channel: unknown, handler: unknown, options: unknown): void {
  assertSegment(channel, 'channel');
  if (typeof handler !== 'function') throw new InvalidValueError('handler', handler, 'expected a function');
  assertOptions(options, 'options', ['onError', 'after', 'idlePollMs', 'pollMs']);
  const o = options as SubscribeOptions | undefined;
  if (o?.onError !== undefined && typeof o.onError !== 'function') throw new InvalidValueError('options.onError', o.onError, 'expected a function');
  assertPositive(o?.after, 'options.after', { allowZero: true, integer: true });
  assertPositive(o?.idlePollMs, 'options.idlePollMs');
  assertPositive(o?.pollMs, 'options.pollMs');
}

/** How long `stop()` waits for a handler that is still running. */
const STOP_WAIT_MS = 5_000;

/**
 * Follows one channel's log: reads after its cursor, delivers one message at a time in order,
 * then waits for the log's wakeup (bounded re-checks). Errors go to `onError` or end it.
 */
export class ChannelFollower {
  #cursor = 0;
  #stopped = false;
  #loop: Promise<void> | undefined;
  #abort = new AbortController();
  #closed: Promise<void>;
  #settle!: { resolve: () => void; reject: (e: unknown) => void };

  constructor(
    private readonly state: StateClient,
    readonly channel: string,
    private readonly handler: (message: ChannelMessage) => void | Promise<void>,
    private readonly options: SubscribeOptions,
    private readonly onEnd: () => void,
  ) {
    this.#closed = new Promise<void>((resolve, reject) => (this.#settle = { resolve, reject }));
    this.#closed.catch(() => undefined);
  }

  get closed(): Promise<void> {
    return this.#closed;
  }

  /** Fixes the start position (now, or `after`), then starts delivering. */
  async start(): Promise<void> {
    const log = channelLog(this.channel);
    this.#cursor = this.options.after ?? (await families(this.state).logs.lastSeq(log));
    // #run reports every error itself; this catch only guarantees no unhandled rejection.
    this.#loop = this.#run(log).catch((error: unknown) => void this.#report(error));
  }

  /**
   * Stops delivery; waits for a delivery in progress, up to {@link STOP_WAIT_MS} (a handler
   * that never settles must not hang `close()`; it is left running, and nothing more is delivered).
   */
  async stop(): Promise<void> {
    if (!this.#stopped) {
      this.#stopped = true;
      this.#abort.abort();
      this.onEnd();
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.#loop, new Promise<void>((resolve) => (timer = setTimeout(resolve, STOP_WAIT_MS)))]);
    clearTimeout(timer);
    this.#settle.resolve();
  }

  /** A pause that ends early when the subscription stops. */
  #pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#abort.signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#abort.signal.addEventListener('abort', done, { once: true });
    });
  }

  async #run(log: string): Promise<void> {
    const f = families(this.state);
    const maxRecheckMs = Math.min(this.options.idlePollMs ?? f.logWake.maxRecheckMs, f.logWake.maxRecheckMs);
    while (!this.#stopped) {
      let page: { seq: number; at: number; json: string }[] | undefined;
      try {
        page = await blockingWait({
          check: async () => {
            const records = await f.logs.read(log, { after: this.#cursor, limit: PAGE });
            return records.length > 0 ? records : undefined;
          },
          ...wakeOf(f.logWake, { kind: 'log', name: log }),
          // Each wait is bounded; the loop goes on until close().
          waitMs: 60_000,
          maxRecheckMs,
          signal: this.#abort.signal,
        });
      } catch (error) {
        if (this.#stopped || this.state.closed) return;
        if (!this.#report(error)) return;
        await this.#pause(maxRecheckMs);
        continue;
      }
      for (const record of page ?? []) {
        if (this.#stopped) return;
        this.#cursor = record.seq;
        try {
          // A damaged record is reported like a handler error (CorruptDataError), never thrown
          // out of this loop: nothing may reject unhandled here.
          const { message, publishedAt, publisher } = parseStored<ChannelRecord>(record.json, `channel ${this.channel} message ${record.seq}`);
          await this.handler({ channel: this.channel, sequence: record.seq, message, publishedAt, publisher });
        } catch (error) {
          if (!this.#report(error)) return;
        }
      }
    }
  }

  /** Hands `error` to onError (true: go on) or ends the subscription with it (false). */
  #report(error: unknown): boolean {
    if (this.options.onError) {
      try {
        this.options.onError(error);
        return true;
      } catch (thrown) {
        error = thrown;
      }
    }
    this.#stopped = true;
    this.#abort.abort();
    this.onEnd();
    this.#settle.reject(error);
    return false;
  }
}

/** Wraps a follower as the public {@link Subscription}: a callable object. */
export function subscriptionOf(follower: ChannelFollower): Subscription {
  const close = (): Promise<void> => follower.stop();
  return Object.assign(close, {
    channel: follower.channel,
    close,
    closed: follower.closed,
    [Symbol.asyncDispose]: close,
  }) as Subscription;
}
