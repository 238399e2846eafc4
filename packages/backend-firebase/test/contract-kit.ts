/**
 * The shared contract kit, wherever this checkout has it: `@agent-state/contract` (issue 16
 * moves the suite there) or, before that move, `@agent-state/core/contract`. Non-literal
 * specifiers, so that neither has to exist for the other to type-check.
 */
import type { CommunicationConfigInput, StateClient } from '@agent-state/core';

export interface Fixture {
  open(): Promise<StateClient>;
  run(task: string, args?: Record<string, unknown>): Promise<Record<string, unknown>[]>;
  dispose(): Promise<void>;
}

export interface Kit {
  runContractSuite(t: { describe: unknown; it: unknown }, target: Record<string, unknown>): void;
  Fixture: new (target: Record<string, unknown>, config: CommunicationConfigInput) => Fixture;
}

const NEW_KIT: string = '@agent-state/contract';
const OLD_KIT: string = '@agent-state/core/contract';

export const kit = (await import(NEW_KIT).catch(() => import(OLD_KIT))) as Kit;
