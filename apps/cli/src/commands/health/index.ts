/**
 * `agent-state health`: the backend's health report as JSON, plus `namespace` and `storeId` (a
 * short hash of backend, target and namespace that the shell functions use to keep lease files
 * of different stores apart). Exit BACKEND_UNAVAILABLE when it is not ok.
 */
import { createHash } from 'node:crypto';
import { BackendUnavailableError, type HealthReport, type StateClient } from '@agent-state/core';
import type { CommandContext } from '../../context.js';
import { withState } from '../../context.js';

/** The report `health` prints. */
export type CliHealthReport = HealthReport & { namespace: string; storeId: string };

/** The health report with the namespace and store id. */
export async function healthOp(state: StateClient): Promise<CliHealthReport> {
  const report = await state.health();
  const storeId = createHash('sha256').update(`${report.backend}\n${report.target}\n${state.namespace}`).digest('hex').slice(0, 12);
  return { ...report, namespace: state.namespace, storeId };
}

/** Prints the health report; fails with BACKEND_UNAVAILABLE when the backend says it is not ok. */
export async function health(ctx: CommandContext): Promise<void> {
  const report = await withState(ctx, healthOp);
  if (!report.ok) throw new BackendUnavailableError(report.backend, report.target, 'health check failed');
  ctx.stdout(`${JSON.stringify(report)}\n`);
}
