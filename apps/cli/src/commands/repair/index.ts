/**
 * `agent-state repair KEY [--delete]`: the explicit way out of CORRUPT_DATA (damaged data is
 * never overwritten by a plain write). Without `--delete` it only reports: whether KEY reads,
 * and the damage if it does not. With `--delete` it removes the damaged entry (`state.repair`)
 * and says what it replaced; the key then reads as absent and can be written again.
 */
import type { RepairReport, StateClient } from '@agent-state/core';
import { auditRepair, isStateError } from '@agent-state/core';
import type { CommandContext } from '../../context.js';
import { withState } from '../../context.js';

/** What `repair` prints (one JSON line). */
export interface RepairOutput extends RepairReport {
  /** Whether anything was changed (only with `--delete`). */
  deleted: boolean;
}

/** Checks `key`; with `remove`, removes it when it is damaged. */
export async function repairOp(state: StateClient, key: string, remove: boolean): Promise<RepairOutput> {
  if (remove) {
    const report = await state.repair(key);
    if (report.removed) await auditRepair(state, key, report);
    return { ...report, deleted: report.removed };
  }
  try {
    await state.read(key);
    return { key, removed: false, deleted: false };
  } catch (error) {
    if (!isStateError(error, 'CORRUPT_DATA')) throw error;
    return { key, removed: false, deleted: false, damage: error.message };
  }
}

/** Prints the report; says on stderr what was replaced. */
export async function repair(ctx: CommandContext, key: string, options: { delete?: boolean } = {}): Promise<void> {
  const report = await withState(ctx, (state) => repairOp(state, key, options.delete === true), { key });
  if (report.deleted) ctx.stderr(`agent-state: repair: removed ${key}${report.damage ? ` (${report.damage})` : ''}; it now reads as absent\n`);
  else if (report.damage && !options.delete) ctx.stderr(`agent-state: repair: ${key} is damaged (${report.damage}); run again with --delete to remove it\n`);
  ctx.stdout(`${JSON.stringify(report)}\n`);
}
