/**
 * Cross-process wakeups (`NativeNotify`) on Redis pub/sub: the queue and log scripts and the
 * lock release (`releaseLock-2.lua`, the one path that frees a lease before it runs out)
 * `PUBLISH` an empty message on the topic's channel (`<base>wake:q:<queue>`, `<base>wake:g:<log>`,
 * `<base>wake:l:<resource>`) in the same atomic step as the change, and one dedicated subscriber connection per backend
 * (opened on the first `listen`) fans each message out to that channel's listeners. No polling:
 * a message can only be missed while the subscriber is disconnected, so every reconnect wakes
 * every listener once (a spurious wakeup, which the contract allows, instead of a missed one).
 */
import { withTimeout, type NativeNotify, type WakeTopic } from '@agent-state/core';
import type { Cluster, Redis } from 'ioredis';
import { isCluster, type Connection } from './connection.js';
import type { KeyLayout } from './layout.js';

export class RedisNotify implements NativeNotify {
  #subscriber: Redis | Cluster | undefined;
  #opening: Promise<Redis | Cluster> | undefined;
  readonly #listeners = new Map<string, Set<() => void>>();
  /** SUBSCRIBE calls in flight, by channel. */
  readonly #subscribing = new Map<string, Promise<void>>();
  #closed = false;

  constructor(
    private readonly conn: () => Connection,
    private readonly keys: () => KeyLayout,
  ) {}

  async listen(topic: WakeTopic, onWake: () => void): Promise<() => Promise<void>> {
    const subscriber = await this.#open();
    const channel = this.keys().wakeChannel(topic);
    let listeners = this.#listeners.get(channel);
    if (!listeners) {
      listeners = new Set();
      this.#listeners.set(channel, listeners);
      const subscribed = this.#bounded(subscriber.subscribe(channel)).then(() => undefined);
      this.#subscribing.set(channel, subscribed);
      subscribed.then(
        () => this.#subscribing.delete(channel),
        () => {
          this.#subscribing.delete(channel);
          if (this.#listeners.get(channel) === listeners) this.#listeners.delete(channel);
        },
      );
    }
    // A second listener of a channel whose SUBSCRIBE is still in flight waits for it too: listen
    // resolves only once a wakeup can no longer be missed.
    const pending = this.#subscribing.get(channel);
    if (pending) {
      try {
        await pending;
      } catch (error) {
        throw this.conn().unavailable(error);
      }
    }
    const callback = (): void => onWake();
    listeners.add(callback);
    return async () => {
      const current = this.#listeners.get(channel);
      if (!current?.delete(callback) || current.size > 0) return;
      this.#listeners.delete(channel);
      if (subscriber.status === 'ready') await this.#bounded(subscriber.unsubscribe(channel)).catch(() => undefined);
    };
  }

  /** Drops the subscriber connection; listeners are not called again. */
  close(): void {
    this.#closed = true;
    this.#listeners.clear();
    this.#subscriber?.disconnect();
    this.#subscriber = undefined;
  }

  #open(): Promise<Redis | Cluster> {
    if (this.#closed) return Promise.reject(this.conn().unavailable(new Error('the backend is closed')));
    if (this.#subscriber) return Promise.resolve(this.#subscriber);
    this.#opening ??= this.#connect().finally(() => {
      this.#opening = undefined;
    });
    return this.#opening;
  }

  async #connect(): Promise<Redis | Cluster> {
    const conn = this.conn();
    // No keyPrefix on the subscriber: the scripts publish to the exact channel names.
    const client = conn.client;
    const subscriber = isCluster(client) ? client.duplicate(undefined, { keyPrefix: '' }) : client.duplicate({ keyPrefix: '', lazyConnect: true, enableAutoPipelining: false });
    subscriber.on('error', () => undefined); // reported through the calls that fail
    subscriber.on('message', (channel: string) => {
      for (const listener of [...(this.#listeners.get(channel) ?? [])]) listener();
    });
    let connectedOnce = false;
    subscriber.on('ready', () => {
      if (connectedOnce) for (const listeners of [...this.#listeners.values()]) for (const listener of [...listeners]) listener();
      connectedOnce = true;
    });
    try {
      if (subscriber.status === 'wait') await this.#bounded(subscriber.connect());
      else if (subscriber.status !== 'ready') await this.#bounded(new Promise<void>((resolve) => subscriber.once('ready', () => resolve())));
    } catch (error) {
      subscriber.disconnect();
      throw conn.unavailable(error);
    }
    if (this.#closed) {
      subscriber.disconnect();
      throw conn.unavailable(new Error('the backend is closed'));
    }
    this.#subscriber = subscriber;
    return subscriber;
  }

  #bounded<T>(pending: Promise<T>): Promise<T> {
    const ms = this.conn().timeoutMs;
    return withTimeout(pending, ms, () => new Error(`no reply within ${ms} ms`));
  }
}
