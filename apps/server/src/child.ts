/**
 * Internal entry used by this package's tests and the bench: `node dist/child.js serve|mcp [JSON options]`.
 * Users run `agent-state serve` / `agent-state mcp` (apps/cli), which call the same functions.
 */
import { runMcpStdio, runServe, type ServeOptions } from './serve.js';

const [mode, json] = process.argv.slice(2);
const options = (json ? JSON.parse(json) : {}) as ServeOptions;
try {
  if (mode === 'mcp') await runMcpStdio(options);
  else await runServe(options);
} catch (error) {
  process.stderr.write(`agent-state ${mode ?? 'serve'}: ${(error as Error).message}\n`);
  process.exit(1);
}
