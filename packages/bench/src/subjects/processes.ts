/**
 * Baselines of the `cli` case, each one new process per call: `node -e 0` (Node's own start-up,
 * the floor of any Node CLI) and `redis-cli GET` (what a bash script on Redis pays without us).
 */
import { CLI_KEY, onPath, run, SkipCase } from './commands.js';
import type { StoreRef, Subject, SubjectSpec } from './types.js';

export const nodeStart: SubjectSpec = {
  id: 'node-e0',
  kind: 'raw',
  label: '`node -e 0`: Node start-up, nothing else',
  capabilities: ['cliCall'],
  only: ['cli'],
  async open(): Promise<Subject> {
    return {
      cliCall: async () => {
        await run(process.execPath, ['-e', '0']);
      },
      close: async () => undefined,
    };
  },
};

export const redisCli: SubjectSpec = {
  id: 'redis-cli',
  kind: 'raw',
  label: '`redis-cli -u URL GET key`',
  capabilities: ['cliCall'],
  only: ['cli'],
  async open(store: StoreRef): Promise<Subject> {
    const url = store.redisUrl ?? 'redis://127.0.0.1:6379';
    const key = `${store.namespace}:redis-cli:${CLI_KEY}`;
    return {
      cliCall: async () => {
        if (!onPath('redis-cli')) throw new SkipCase('redis-cli is not on PATH');
        await run('redis-cli', ['-u', url, 'GET', key]);
      },
      close: async () => undefined,
    };
  },
};
