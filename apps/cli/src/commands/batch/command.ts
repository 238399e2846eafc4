import { Option, type Command } from 'commander';
import { contextOf, type CommandDefinition, type Opts } from '../../program.js';

export const batchCommand: CommandDefinition = {
  spec: 'batch',
  summary: 'run JSON requests from stdin, one per line ({"op":"get","key":"a"}); one JSON result per line',
  define: (cmd) =>
    cmd
      .addHelpText('after', '\nOps: get set delete list update incr lock unlock queue.push queue.pop queue.ack queue.nack queue.size\n     queue.counts publish agents.register agents.heartbeat agents.list health tx.begin tx.read tx.write tx.delete\n     tx.commit tx.rollback log.append log.read wait repair (fields as in the commands; see README)')
      .addOption(new Option('--serve <dir>', 'serve command lines from DIR/requests (the shell functions\' coprocess)').hideHelp())
      .action(async (opts: Opts, c: Command) =>
        opts.serve !== undefined ? (await import('./serve.js')).serve(contextOf(c), opts.serve as string) : (await import('./index.js')).batch(contextOf(c)),
      ),
};
