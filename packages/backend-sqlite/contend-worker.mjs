import { openState } from '@agent-state/core';
const [path, n, startAt, op] = process.argv.slice(2);
const state = await openState({ config: { backend: 'sqlite', namespace: 'c', settings: { database_path: path } }, env: {} });
while (Date.now() < +startAt) await new Promise((r) => setTimeout(r, 1));
const waits = [];
for (let i = 0; i < +n; i++) {
  const t = performance.now();
  if (op === 'update') await state.update('ctr', (e) => (e?.value ?? 0) + 1);
  else await state.increment('ctr');
  waits.push(performance.now() - t);
}
const h = await state.health();
await state.close();
process.stdout.write(JSON.stringify({ waits, details: h.details }));
