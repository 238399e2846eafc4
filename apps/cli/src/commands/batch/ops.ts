/** The operations `batch` understands, each mapped onto the same functions the commands use. */
import type { JsonValue, Lock, StateClient } from '@agent-state/core';
import { NotFoundError, UsageError } from '../../errors.js';
import { healthOp } from '../health/index.js';
import { listOp } from '../list/index.js';
import { logAppendOp, logReadOp } from '../log/index.js';
import { repairOp } from '../repair/index.js';
import { waitOp } from '../wait/index.js';
import { keepLock, type LockKeeper } from '../lock/keeper.js';
import { popOp, pushOp, settleOp } from '../queue/index.js';
import { txBeginOp, txCommitOp, txDeleteOp, txReadOp, txRollbackOp, txWriteOp } from '../tx/index.js';
import { compileExpr, updateOp, type UpdateFn } from '../update/index.js';

/** A lock this batch process holds. */
export interface HeldLock {
  lock: Lock;
  keeper: LockKeeper;
}

type Request = Record<string, JsonValue>;

const compiled = new Map<string, UpdateFn>();

/** Runs one request; resolves to its result. */
export async function dispatch(state: StateClient, r: Request, locks: Map<string, HeldLock>): Promise<unknown> {
  const op = str(r, 'op');
  switch (op) {
    case 'get':
      return state.read(str(r, 'key'));
    case 'set':
      return state.write(str(r, 'key'), req(r, 'value'), {
        ...opt(r, 'ifVersion', (v) => v as number | 'absent'),
        ...opt(r, 'ttlMs', Number),
        ...fence(r, locks),
      });
    case 'delete':
      return state.delete(str(r, 'key'), { ...opt(r, 'ifVersion', (v) => v as number | 'absent'), ...fence(r, locks) });
    case 'list':
      return listOp(state, optStr(r, 'prefix'), { ...opt(r, 'after', String), ...opt(r, 'limit', Number) });
    case 'update': {
      const expr = str(r, 'expr');
      let fn = compiled.get(expr);
      if (!fn) compiled.set(expr, (fn = compileExpr(expr)));
      const args = (r['args'] ?? {}) as Record<string, string>;
      return updateOp(state, str(r, 'key'), fn, args, r['ttlMs'] === undefined ? undefined : Number(r['ttlMs']));
    }
    case 'incr':
      return state.increment(str(r, 'key'), r['by'] === undefined ? 1 : (r['by'] as number));
    case 'lock': {
      const resource = str(r, 'resource');
      if (locks.has(resource)) throw new UsageError(`lock ${resource} is already held by this batch`);
      const lock = await state.lock(resource, { ...opt(r, 'ttlMs', Number), ...opt(r, 'waitMs', Number) });
      const ttlMs = r['ttlMs'] === undefined ? state.config.lockTtlMs : Number(r['ttlMs']);
      locks.set(resource, { lock, keeper: keepLock(lock, ttlMs, () => undefined) });
      return { resource, token: lock.token, owner: lock.owner, expiresAt: lock.expiresAt };
    }
    case 'unlock': {
      const resource = str(r, 'resource');
      const held = locks.get(resource);
      if (!held) throw new NotFoundError(`lock ${resource} is not held by this batch`);
      locks.delete(resource);
      await held.keeper.stop();
      if (held.keeper.lost) throw held.keeper.lost;
      await held.lock.release();
      return true;
    }
    case 'queue.push':
      return pushOp(state, str(r, 'queue'), req(r, 'payload'), {
        ...opt(r, 'priority', String),
        ...opt(r, 'delayMs', Number),
      });
    case 'queue.pop':
      return popOp(state, str(r, 'queue'), { ...opt(r, 'leaseMs', Number), ...opt(r, 'waitMs', Number), ...opt(r, 'ack', Boolean) });
    case 'queue.ack':
      return settleOp(state, str(r, 'queue'), str(r, 'jobId'), str(r, 'leaseId'));
    case 'queue.nack':
      return settleOp(state, str(r, 'queue'), str(r, 'jobId'), str(r, 'leaseId'), r['delayMs'] === undefined ? 0 : Number(r['delayMs']));
    case 'queue.size':
      return state.queue(str(r, 'queue')).size();
    case 'queue.counts':
      return state.queue(str(r, 'queue')).counts();
    case 'publish':
      return state.publish(str(r, 'channel'), req(r, 'message'));
    case 'log.append':
      return logAppendOp(state, str(r, 'log'), req(r, 'record'));
    case 'log.read':
      return logReadOp(state, str(r, 'log'), { ...opt(r, 'after', Number), ...opt(r, 'limit', Number) });
    case 'wait':
      return waitOp(state, str(r, 'key'), Number(req(r, 'untilVersion')), r['timeoutMs'] === undefined ? undefined : Number(r['timeoutMs']));
    case 'repair':
      return repairOp(state, str(r, 'key'), r['delete'] === true);
    case 'agents.register':
      await state.agents.register(str(r, 'agentId'), r['info'] ?? {});
      return true;
    case 'agents.heartbeat':
      await state.agents.heartbeat(str(r, 'agentId'), r['metrics'] ?? null);
      return true;
    case 'agents.list':
      return state.agents.list();
    case 'health':
      return healthOp(state);
    case 'tx.begin':
      return txBeginOp(state, r['ttlMs'] === undefined ? undefined : Number(r['ttlMs']));
    case 'tx.read':
      return txReadOp(state, str(r, 'tx'), str(r, 'key'));
    case 'tx.write':
      await txWriteOp(state, str(r, 'tx'), str(r, 'key'), req(r, 'value'), r['ttlMs'] === undefined ? undefined : Number(r['ttlMs']));
      return true;
    case 'tx.delete':
      await txDeleteOp(state, str(r, 'tx'), str(r, 'key'));
      return true;
    case 'tx.commit':
      return txCommitOp(state, str(r, 'tx'));
    case 'tx.rollback':
      await txRollbackOp(state, str(r, 'tx'));
      return true;
    default:
      throw new UsageError(`unknown op ${JSON.stringify(op)} (see \`agent-state batch --help\`)`);
  }
}

/** Every op `batch` accepts. */
export const BATCH_OPS = [
  'get', 'set', 'delete', 'list', 'update', 'incr', 'lock', 'unlock',
  'queue.push', 'queue.pop', 'queue.ack', 'queue.nack', 'queue.size', 'queue.counts', 'publish',
  'log.append', 'log.read', 'wait', 'repair',
  'agents.register', 'agents.heartbeat', 'agents.list', 'health',
  'tx.begin', 'tx.read', 'tx.write', 'tx.delete', 'tx.commit', 'tx.rollback',
] as const;

function str(r: Request, field: string): string {
  const v = r[field];
  if (typeof v !== 'string') throw new UsageError(`${field}: expected a string, got ${JSON.stringify(v) ?? 'nothing'}`);
  return v;
}

function optStr(r: Request, field: string): string | undefined {
  return r[field] === undefined ? undefined : str(r, field);
}

function req(r: Request, field: string): JsonValue {
  if (!(field in r)) throw new UsageError(`${field}: missing`);
  return r[field] as JsonValue;
}

/** `{[field]: convert(value)}` when present, `{}` otherwise (exactOptionalPropertyTypes-friendly). */
function opt<K extends string, T>(r: Request, field: K, convert: (v: JsonValue) => T): { [P in K]?: T } {
  const v = r[field];
  return (v === undefined || v === null ? {} : { [field]: convert(v) }) as { [P in K]?: T };
}

function fence(r: Request, locks: Map<string, HeldLock>): { fence?: Lock } {
  const resource = r['fence'];
  if (resource === undefined || resource === null) return {};
  const held = locks.get(String(resource));
  if (!held) throw new UsageError(`fence: lock ${String(resource)} is not held by this batch`);
  return { fence: held.lock };
}
