/**
 * A contract-suite worker: a plain node process that opens the store described by a serialisable
 * config and runs one task. Usage: node worker.js '{"config":{…},"task":"increment","args":{…}}'.
 * It never calls process.exit: returning must be enough for it to end (the lifecycle promise).
 */
import { openStore } from './harness.js';
import { tasks } from './tasks.js';

const { config, task, args, portable, backendModule } = JSON.parse(process.argv[2] ?? '{}') as {
  config: Record<string, unknown>;
  task: string;
  args: Record<string, unknown>;
  /** Use the portable coordination families even where the backend has native ones. */
  portable?: boolean;
  /** The target's backend module, if it has one. */
  backendModule?: string;
};
const run = tasks[task];
if (!run) throw new Error(`unknown worker task ${task}`);

const state = await openStore(config, { backendModule, portable });
try {
  await run(state, args ?? {}, (type, data) => process.stdout.write(`${JSON.stringify({ type, ...data })}\n`));
} finally {
  await state.close();
}
