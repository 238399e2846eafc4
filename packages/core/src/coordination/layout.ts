import { CorruptDataError } from '../errors.js';

/**
 * Where coordination keeps its state, as ordinary entries under reserved top-level segments that
 * start with `@` (user keys listed without an `@` prefix never show them). The migration tool
 * copies them like any entry. Every number in a key is zero-padded so key order = service order.
 *
 * - `@q/<queue>/seq`               last sequence number issued
 * - `@q/<queue>/j/<id>`            a job, id = `<1e6 - priority, 7 digits>-<sequence, 15 digits>`
 * - `@q/<queue>/dead/<id>`         a job that reached `maxAttempts`
 * - `@ch/<channel>/seq`            last message number of a channel
 * - `@ch/<channel>/m/<n>`          a message (kept `retentionMs`, then expires)
 * - `@agents/<agentId>`            registry record with the last heartbeat
 * - `@mail/<agentId>/seq`          last message number of a mailbox
 * - `@mail/<agentId>/m/<n>`        a message waiting for its receiver's ack
 * - `@log/<name>/seq`              last record number of a user log (`state.log(name)`)
 * - `@log/<name>/m/<n>`            a record `{ at, record }` until trimmed
 * - `@<log>/low`                   (any portable log) seqs below it were swept by `trim`
 *
 * Channels, mailboxes and user logs are one family, logs: the log `ch/<channel>` lives under
 * `@ch/<channel>/…`, `mail/<agent>` under `@mail/<agent>/…`, `log/<name>` under `@log/<name>/…`
 * (see {@link logKeys}). Backends with native coordination keep their own layout instead.
 */

/** Top-level segments reserved for coordination. */
export const RESERVED_PREFIX = '@';

/** Priorities are whole numbers in this range; larger is served first. */
export const MAX_PRIORITY = 999_999;

export const NAMED_PRIORITIES = { high: 10, normal: 0, low: -10 } as const;
export type NamedPriority = keyof typeof NAMED_PRIORITIES;

export function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

export const queueKeys = (queue: string) => ({
  seq: `@q/${queue}/seq`,
  jobs: `@q/${queue}/j/`,
  job: (id: string) => `@q/${queue}/j/${id}`,
  dead: (id: string) => `@q/${queue}/dead/${id}`,
  deadPrefix: `@q/${queue}/dead/`,
});

/** A job id orders by priority (descending) then sequence (ascending). */
export function jobId(priority: number, sequence: number): string {
  return `${pad(1_000_000 - priority, 7)}-${pad(sequence, 15)}`;
}

export const channelKeys = (channel: string) => ({
  seq: `@ch/${channel}/seq`,
  messages: `@ch/${channel}/m/`,
  message: (n: number) => `@ch/${channel}/m/${pad(n, 15)}`,
});

export const agentKey = (agentId: string) => `@agents/${agentId}`;
export const AGENTS_PREFIX = '@agents/';

export const mailKeys = (agentId: string) => ({
  seq: `@mail/${agentId}/seq`,
  messages: `@mail/${agentId}/m/`,
  message: (n: number) => `@mail/${agentId}/m/${pad(n, 15)}`,
});

/** Keys of the portable log `name` (`ch/x`, `mail/x`, `log/x`): `@<name>/seq`, `@<name>/m/<n>`. */
export const logKeys = (name: string) => ({
  seq: `@${name}/seq`,
  low: `@${name}/low`,
  messages: `@${name}/m/`,
  message: (n: number) => `@${name}/m/${pad(n, 15)}`,
});

/** Log names core hands the logs family. */
export const channelLog = (channel: string) => `ch/${channel}`;
export const mailLog = (agentId: string) => `mail/${agentId}`;
export const userLog = (name: string) => `log/${name}`;

/**
 * Parses a queue payload or log record as a backend returned it. Text that is not JSON is
 * damaged data: `CorruptDataError` naming where it is, never a bare `SyntaxError`.
 */
export function parseStored<T>(json: string, location: string): T {
  try {
    return JSON.parse(json) as T;
  } catch (error) {
    throw new CorruptDataError(location, 'the stored record is not valid JSON', { cause: error });
  }
}
