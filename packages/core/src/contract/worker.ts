/**
 * A contract-suite worker: a plain node process that opens the store described by a serialisable
 * config and runs one task. Usage: node worker.js '{"config":{…},"task":"increment","args":{…}}'.
 * It never calls process.exit: returning must be enough for it to end (the lifecycle promise).
 */
import { openState } from '../open-state.js';
import { tasks } from './tasks.js';

const { config, task, args } = JSON.parse(process.argv[2] ?? '{}') as {
  config: Record<string, unknown>;
  task: string;
  args: Record<string, unknown>;
};
const run = tasks[task];
if (!run) throw new Error(`unknown worker task ${task}`);

const state = await openState({ config, env: {} });
try {
  await run(state, args ?? {}, (type, data) => process.stdout.write(`${JSON.stringify({ type, ...data })}\n`));
} finally {
  await state.close();
}
