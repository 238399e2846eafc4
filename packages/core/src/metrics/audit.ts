import type { StateClient } from '../client.js';
import type { JsonValue, LockLease, RepairReport } from '../types.js';
import { localHost, parseOwner } from '../owner.js';
import { InvalidValueError } from '../errors.js';

/** The log every audited action is appended to: `state.log('audit')`. */
export const AUDIT_LOG = 'audit';

/** What was done. */
export type AuditAction = 'lock.takeover' | 'lock.force-release' | 'migration.start' | 'migration.switch' | 'repair' | 'queue.retry-dead' | 'queue.delete-dead';

/** Who did it: an owner id (or operator name) with the host and pid it ran in. */
export interface AuditActor {
  owner: string;
  host: string;
  pid: number;
}

/** One record of the audit log. */
export interface AuditRecord {
  action: AuditAction;
  /** The resource, key, queue/job or migration the action was about. */
  target: string;
  who: AuditActor;
  at: number;
  before: JsonValue;
  after: JsonValue;
  /** Free text (e.g. "dashboard", "agent-state repair"). */
  via?: string;
}

/** The actor for `owner` (default: this process), host and pid from the owner id when it carries them. */
export function auditActor(owner = `pid:${process.pid}`): AuditActor {
  const info = parseOwner(owner);
  return { owner, host: info?.host ?? localHost(), pid: info?.pid ?? process.pid };
}

/** Appends one record to the `audit` log; returns its seq. */
export async function audit(
  state: StateClient,
  action: AuditAction,
  target: string,
  change: { before?: JsonValue; after?: JsonValue; who?: AuditActor; via?: string } = {},
): Promise<{ seq: number; at: number }> {
  if (typeof target !== 'string' || target === '') throw new InvalidValueError('target', target, 'expected a non-empty string');
  const record: AuditRecord = {
    action,
    target,
    who: change.who ?? auditActor(),
    at: Date.now(),
    before: change.before ?? null,
    after: change.after ?? null,
    ...(change.via !== undefined && { via: change.via }),
  };
  return state.log(AUDIT_LOG).append(record as unknown as JsonValue);
}

/** For `agent-state-migrate`: call after setting `@migration/active` (start) and after `--switch`. */
export function auditMigration(
  state: StateClient,
  phase: 'start' | 'switch',
  details: { runId: string; from: string; to: string; owner?: string; before?: JsonValue; after?: JsonValue },
): Promise<{ seq: number; at: number }> {
  return audit(state, phase === 'start' ? 'migration.start' : 'migration.switch', details.runId, {
    who: auditActor(details.owner),
    before: details.before ?? { store: details.from },
    after: details.after ?? { store: details.to },
    via: 'agent-state-migrate',
  });
}

/** For `agent-state repair KEY`: call with the report `state.repair(key)` returned. */
export function auditRepair(state: StateClient, key: string, report: RepairReport, owner?: string): Promise<{ seq: number; at: number }> {
  const before: JsonValue = { key: report.key, removed: report.removed, ...(report.damage !== undefined && { damage: report.damage }) };
  return audit(state, 'repair', key, { who: auditActor(owner), before, after: null, via: 'agent-state repair' });
}

/** A lock taken over from an expired (or dead) holder, or force-released by an operator. */
export function auditLock(
  state: StateClient,
  kind: 'takeover' | 'force-release',
  resource: string,
  before: { owner: string; token: number; expiresAt?: number } | null,
  after: { owner: string; token: number; expiresAt?: number } | null,
  who?: AuditActor,
  via?: string,
): Promise<{ seq: number; at: number }> {
  return audit(state, kind === 'takeover' ? 'lock.takeover' : 'lock.force-release', resource, {
    who: who ?? auditActor(),
    before,
    after,
    ...(via !== undefined && { via }),
  });
}

/**
 * @internal Called by `lock` / `lockMany` when the backend reports that the new lease took over
 * another owner's expired (or dead) lease: one `lock.takeover` record, who = the new holder
 * (owner id, host, pid), before = the old lease, after = the new one. Never throws: the lock is
 * held either way, and a failing audit append must not leak it.
 */
export async function auditTakeover(state: StateClient, lease: LockLease, replaced: LockLease): Promise<void> {
  try {
    await auditLock(
      state,
      'takeover',
      lease.resource,
      { owner: replaced.owner, token: replaced.token, expiresAt: replaced.expiresAt },
      { owner: lease.owner, token: lease.token, expiresAt: lease.expiresAt },
      auditActor(lease.owner),
      'lock',
    );
  } catch {
    // Best effort: the backend that just granted the lease is failing; the lock stands.
  }
}
