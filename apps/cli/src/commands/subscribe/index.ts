/**
 * `agent-state subscribe CHANNEL`: one JSON line per message published after it started, until
 * SIGINT/SIGTERM (or `--count N` messages), then a clean exit 0.
 */
import { writeFileSync } from 'node:fs';
import type { ChannelMessage } from '@agent-state/core';
import type { CommandContext } from '../../context.js';
import { withState } from '../../context.js';
import { oneLine } from '../../errors.js';
import { formatValue } from '../../io.js';

/** Options of {@link subscribe}. */
export interface SubscribeOptions {
  /** Print the whole delivery (channel, sequence, message, publishedAt, publisher). */
  json?: boolean;
  /** A string message without quotes. */
  raw?: boolean;
  /** Exit after this many messages. */
  count?: number;
  /** Create this file once subscribed, so a script knows when publishing will be seen. */
  readyFile?: string;
}

const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** Streams messages until interrupted. */
export async function subscribe(ctx: CommandContext, channel: string, options: SubscribeOptions = {}): Promise<void> {
  await withState(ctx, async (state) => {
    let stop: () => void = () => undefined;
    const stopped = new Promise<void>((resolve) => {
      stop = resolve;
    });
    let received = 0;
    for (const signal of STOP_SIGNALS) process.on(signal, stop);
    try {
      const unsubscribe = await state.subscribe(
        channel,
        (_message, meta: ChannelMessage) => {
          if (options.count !== undefined && received >= options.count) return;
          received++;
          ctx.stdout(options.json ? `${JSON.stringify(meta)}\n` : formatValue(meta.message, options));
          if (options.count !== undefined && received >= options.count) stop();
        },
        {
          // A failed poll is retried by core; say so, keep listening.
          onError: (error) => ctx.stderr(`${oneLine('WARNING', error instanceof Error ? error.message : String(error))}\n`),
        },
      );
      if (options.readyFile) writeFileSync(options.readyFile, `${process.pid}\n`);
      if (options.count === 0) stop();
      await stopped;
      await unsubscribe();
    } finally {
      for (const signal of STOP_SIGNALS) process.off(signal, stop);
    }
  });
}
