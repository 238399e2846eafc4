/** Entry of the `agent-state-contract` executable (see `bin/agent-state-contract.mjs`). */
import { main } from './cli.js';

process.exitCode = await main(process.argv.slice(2));
