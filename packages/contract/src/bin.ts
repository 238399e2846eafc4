/** Entry of the `agent-state-contract` executable (see `bin/agent-state-contract.mjs`). */
import { main } from './cli.js';

// Exit explicitly: a backend whose test was abandoned at its deadline may still hold a handle,
// and the report is already written (stdout and stderr are synchronous for files and pipes).
process.exit(await main(process.argv.slice(2)));
