#!/usr/bin/env node
// Where the cost of a write on firebase-server comes from (issue 19): our write, our 2-key commit
// and our read, each alternated with firebase-admin calls doing the same on the same shape of
// data, at growing namespace sizes. The emulator runs in its own process (so its CPU is not ours).
//
//   node packages/backend-firebase/scripts/emulator-scale.mjs [--sizes 10,1000,2000] [--ops 200]
//
// Needs `npm run build` of core and this package. Writes, commits and reads run in separate loops
// (as the bench's cases do), each alternating ours with the raw calls. Prints p50 ms per call, one row per size:
// - write: ours | raw set() with 8 siblings (the bench's raw layout) | raw set() beside the
//   filled keys (our layout) | raw transaction() beside the filled keys (what ours sends);
// - tx: ours | the same seven steps as raw calls (2 barrier reads, 2 marks, decide, 2 applies, forget);
// - read: ours | raw once('value') | the barrier alone (once('value') of a node nobody writes).
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { openState } from '@agent-state/core';
import { deleteApp, initializeApp } from 'firebase-admin/app';
import { getDatabase } from 'firebase-admin/database';
import { entryName } from '../dist/key-names.js';

const { values } = parseArgs({ options: { sizes: { type: 'string', default: '10,1000,2000' }, ops: { type: 'string', default: '200' } } });
const sizes = values.sizes.split(',').map(Number);
const ops = Number(values.ops);

const emulatorModule = new URL('../dist/emulator.js', import.meta.url).href;
const child = spawn(process.execPath, ['--input-type=module', '-e', `const e = await (await import(${JSON.stringify(emulatorModule)})).startEmulator(); console.log(e.host);`], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
const host = await new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error('emulator did not start within 20 s')), 20_000);
  createInterface({ input: child.stdout }).once('line', (line) => {
    clearTimeout(timer);
    resolve(line.trim());
  });
  child.once('exit', (code) => reject(new Error(`emulator exited (${code})`)));
});

const NS = 'scale';
const url = `http://${host}?ns=emulator-scale`;
process.env.FIREBASE_DATABASE_EMULATOR_HOST = host;
const state = await openState({ config: { backend: 'firebase', namespace: NS, settings: { database_url: url, emulator_host: host } }, env: {} });
const app = initializeApp({ databaseURL: url, projectId: 'emulator-scale' }, 'emulator-scale-raw');
const db = getDatabase(app);

/** A ~250-byte value, as the bench's fb-scale cases write. */
function value(i) {
  let text = '';
  for (let k = 0; k < 220; k++) text += String.fromCharCode(97 + ((i * 7 + k * 13) % 26));
  return { i, text };
}
const entry = (json, v) => ({ j: json, v, u: Date.now() });
const p50 = (list) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)].toFixed(2);
async function timed(list, fn) {
  const started = performance.now();
  await fn();
  list.push(performance.now() - started);
}

// `flat` mirrors our layout (every key a child of k/) with plain firebase-admin calls.
const FLAT = `${NS}-flat/k`;
for (const k of ['a', 'b', ...Array.from({ length: 8 }, (_, i) => `w${i}`)]) db.ref(`${FLAT}/tx-${k}`).on('value', () => undefined);
await state.write('scale/tx/a', 1_000_000);
await state.write('scale/tx/b', 1_000_000);
let commits = 0;
async function rawCommitSteps() {
  const id = `c${++commits}`;
  await db.ref('~health').once('value');
  await db.ref('~health').once('value');
  const mark = (k) => db.ref(`${FLAT}/tx-${k}`).transaction((c) => ({ ...(c ?? {}), k: { i: id, x: Date.now() + 2000 } }), undefined, false);
  await mark('a');
  await mark('b');
  await db.ref(`${NS}-flat/t/${id}`).transaction((c) => (c === null ? { s: 'c', w: { a: 1, b: 2 } } : undefined), undefined, false);
  const apply = (k) => db.ref(`${FLAT}/tx-${k}`).transaction((c) => entry(String(Math.random()), (c?.v ?? 0) + 1), undefined, false);
  await Promise.all([apply('a'), apply('b')]);
  await db.ref(`${NS}-flat/t/${id}`).remove();
}

console.log(`firebase-server in its own process; p50 ms of ${ops} alternated calls each (commits: ${ops / 4}); load ${(await import('node:os')).loadavg().map((l) => l.toFixed(1)).join(' ')}`);
console.log('| keys | write: ours | raw set() 8 siblings | raw set() beside N | raw transaction() beside N | tx: ours | tx: raw steps | read: ours | raw once() | barrier |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
let filled = 0;
try {
  for (const size of sizes) {
    let next = filled;
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (next < size) {
          const i = next++;
          const key = `scale/fill/${String(i).padStart(6, '0')}`;
          const json = JSON.stringify(value(i));
          await db.ref(`${NS}/k/${entryName(key)}`).set(entry(json, 1));
          await db.ref(`${NS}-raw/${key}`).set(value(i));
          await db.ref(`${FLAT}/${entryName(key)}`).set(entry(json, 1));
        }
      }),
    );
    filled = Math.max(filled, size);
    const r = { ours: [], nested: [], flat: [], flatTx: [], tx: [], txRaw: [], read: [], once: [], barrier: [] };
    for (let n = 0; n < ops; n++) {
      const w = n % 8;
      await timed(r.ours, () => state.write(`scale/w/${w}`, value(n)));
      await timed(r.nested, () => db.ref(`${NS}-raw/scale/w/${w}`).set(value(n)));
      await timed(r.flat, () => db.ref(`${FLAT}/w-${w}`).set(entry(JSON.stringify(value(n)), n)));
      await timed(r.flatTx, () => db.ref(`${FLAT}/tx-w${w}`).transaction((c) => entry(JSON.stringify(value(n)), (c?.v ?? 0) + 1), undefined, false));
    }
    for (let n = 0; n < ops; n++) {
      const key = `scale/fill/${String(n % Math.min(16, size)).padStart(6, '0')}`;
      await timed(r.read, () => state.read(key));
      await timed(r.once, () => db.ref(`${NS}-raw/${key}`).once('value'));
      await timed(r.barrier, () => db.ref('~health').once('value'));
    }
    for (let n = 0; n < ops / 4; n++) {
      await timed(r.tx, () =>
        state.transaction(async (tx) => {
          const a = (await tx.read('scale/tx/a')).value;
          const b = (await tx.read('scale/tx/b')).value;
          tx.write('scale/tx/a', a - 1);
          tx.write('scale/tx/b', b + 1);
        }),
      );
      await timed(r.txRaw, rawCommitSteps);
    }
    const cells = ['ours', 'nested', 'flat', 'flatTx', 'tx', 'txRaw', 'read', 'once', 'barrier'].map((k) => p50(r[k]));
    console.log(`| ${size.toLocaleString('en-US')} | ${cells.join(' | ')} |`);
  }
} finally {
  await state.close();
  await deleteApp(app);
  child.kill();
}
