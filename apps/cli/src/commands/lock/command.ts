import { Option, type Command } from 'commander';
import { contextOf, duration, integer, pick, type CommandDefinition, type Opts } from '../../program.js';

export const lockCommand: CommandDefinition = {
  spec: 'lock <resource> [command...]',
  summary: 'run COMMAND while holding RESOURCE (lease extended while it runs); exit with its code',
  define: (cmd) =>
    cmd
      .usage('[options] <resource> -- <command> [args...]')
      .option('--ttl <duration>', 'lease length, extended every ttl/3 (default: lock_timeout, else 30s)', duration('--ttl'))
      .option('--wait <duration>', 'wait this long for a busy lock, then exit LOCK_TIMEOUT (default 10s)', duration('--wait'))
      .addOption(new Option('--hold', 'hold the lock until SIGTERM (used by the shell functions)'))
      .addOption(new Option('--lease-file <file>', 'with --hold: publish PID TOKEN OWNER here'))
      .addOption(new Option('--watch-pid <pid>', 'with --hold: release when this process is gone').argParser(integer('--watch-pid')))
      .action(async (resource: string, command: string[], opts: Opts, c: Command) => {
        const options = { ...pick<number>(opts, 'ttl', 'ttlMs'), ...pick<number>(opts, 'wait', 'waitMs') };
        if (opts.hold) {
          const { lockHold } = await import('./hold.js');
          return lockHold(contextOf(c), resource, { ...options, ...pick(opts, 'leaseFile'), ...pick(opts, 'watchPid') });
        }
        return (await import('./index.js')).lock(contextOf(c), resource, command, options);
      }),
};
