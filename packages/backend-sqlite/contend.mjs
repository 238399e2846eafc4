import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openState } from '@agent-state/core';
const [P = 4, N = 500, op = 'increment'] = process.argv.slice(2);
const dir = mkdtempSync(join(tmpdir(), 'contend-')); const path = join(dir, 's.db');
const s0 = await openState({ config: { backend: 'sqlite', namespace: 'c', settings: { database_path: path } }, env: {} });
const startAt = Date.now() + 1500;
const outs = await Promise.all(Array.from({ length: +P }, () => new Promise((res) => {
  const c = spawn(process.execPath, [new URL('./contend-worker.mjs', import.meta.url).pathname, path, N, startAt, op], { cwd: '/work/main/packages/backend-sqlite' });
  let out = ''; c.stdout.on('data', (d) => (out += d)); c.stderr.on('data', (d) => process.stderr.write(d)); c.on('exit', () => res(JSON.parse(out)));
})));
const all = outs.flatMap((o) => o.waits).sort((a, b) => a - b);
const q = (p) => all[Math.min(all.length - 1, Math.floor(p * all.length))].toFixed(2);
const final = (await s0.read('ctr')).value;
console.log(`${op} ${P}x${N}: final ${final} p50 ${q(0.5)} ms p99 ${q(0.99)} ms max ${all.at(-1).toFixed(2)} ms; busy waits ${outs.map((o) => o.details.busyWaits).join('/')} max ${outs.map((o) => o.details.busyWaitMaxMs).join('/')}`);
await s0.close(); rmSync(dir, { recursive: true, force: true });
