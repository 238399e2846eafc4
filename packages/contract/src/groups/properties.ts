import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import fc from 'fast-check';
import { sleep } from '@agent-state/core';
import type { StateClient, Entry, JsonValue } from '@agent-state/core';
import { fixtureTest, processTest, workerPath, type ContractTarget, type Fixture, type TestApi } from '../harness.js';
import { runPropertyOp, type PropertyOp, type PropertyResult } from '../tasks.js';

/**
 * Issue 14 item 7: random sequences of write / compare-and-set / delete / increment / transaction
 * / expiry, spread over two clients (in two OS processes where the backend allows it), checked
 * against a model after every step. The operations run one at a time, so the model is exact;
 * what the two clients add is that every step's result must be what another process sees.
 *
 * The model checks values, conflicts and errors exactly; versions by the contract's promise:
 * every version a key gets is above every version it ever had (never repeated, through delete
 * and expiry). On failure fast-check prints the seed and the shrunk sequence; rerun one with
 * `AGENT_STATE_PROPERTY_SEED=<seed>`.
 */
export function propertiesGroup(t: TestApi, target: ContractTarget): void {
  const runs = Math.max(5, Math.round(25 * (target.scale ?? 1)));
  t.describe('properties', () => {
    fixtureTest(
      t,
      target,
      'random operations from two clients agree with a model (values, conflicts, versions never repeat)',
      async (f) => {
        const clients = [await f.open(), await f.open()];
        await check(runs, (i, op) => runPropertyOp(clients[i]!, op), clients[0]!);
      },
      120_000,
    );
    processTest(
      t,
      target,
      'random operations from two processes agree with a model (values, conflicts, versions never repeat)',
      async (f) => {
        const local = await f.open();
        const remote = await Remote.start(f);
        try {
          await check(runs, (i, op) => (i === 0 ? runPropertyOp(local, op) : remote.run(op)), local);
        } finally {
          await remote.stop();
        }
      },
      { timeoutMs: 240_000 },
    );
  });
}

const KEYS = ['prop/a', 'prop/b', 'prop/c'];

type Step =
  | { kind: 'write'; client: number; key: number; value: JsonValue; cas: 'none' | 'current' | 'stale' | 'absent'; ttl: boolean }
  | { kind: 'delete'; client: number; key: number; cas: 'none' | 'current' | 'stale' }
  | { kind: 'increment'; client: number; key: number; by: number }
  | { kind: 'tx'; client: number; from: number; to: number; deleteFrom: boolean };

const client = fc.integer({ min: 0, max: 1 });
const key = fc.integer({ min: 0, max: KEYS.length - 1 });
const value: fc.Arbitrary<JsonValue> = fc.oneof(
  fc.integer({ min: -1_000, max: 1_000 }),
  fc.string({ maxLength: 8 }),
  fc.constant(null),
  fc.boolean(),
  fc.record({ n: fc.integer({ min: 0, max: 9 }), tag: fc.string({ maxLength: 4 }) }),
).map((v) => JSON.parse(JSON.stringify(v)) as JsonValue); // plain objects, as JSON gives them back
const step: fc.Arbitrary<Step> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('write' as const), client, key, value, cas: fc.constantFrom('none' as const, 'current' as const, 'stale' as const, 'absent' as const), ttl: fc.boolean().map((b) => b && Math.random() < 0.3) }), weight: 5 },
  { arbitrary: fc.record({ kind: fc.constant('delete' as const), client, key, cas: fc.constantFrom('none' as const, 'current' as const, 'stale' as const) }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('increment' as const), client, key, by: fc.integer({ min: -5, max: 5 }) }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant('tx' as const), client, from: key, to: key, deleteFrom: fc.boolean() }), weight: 2 },
);

interface KeyModel {
  /** Current value; `undefined` = absent (never written, deleted or expired). */
  value: JsonValue | undefined;
  /** Version of the current value. */
  version: number | undefined;
  /** Every version the key ever had, in order. */
  history: number[];
}

type Exec = (client: number, op: PropertyOp) => Promise<PropertyResult>;

async function check(numRuns: number, exec: Exec, cleaner: StateClient): Promise<void> {
  const envSeed = Number(process.env['AGENT_STATE_PROPERTY_SEED']);
  await fc.assert(
    fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 25 }), async (steps) => {
      // Each run starts from absent keys; their version history carries over (the floor stays).
      const model = new Map<string, KeyModel>();
      for (const k of KEYS) {
        await cleaner.delete(k);
        const m: KeyModel = { value: undefined, version: undefined, history: [] };
        model.set(k, m);
      }
      for (const s of steps) await apply(s, model, exec);
    }),
    { numRuns, ...(Number.isFinite(envSeed) && { seed: envSeed }), endOnFailure: false },
  );
}

function describe(s: Step): string {
  return JSON.stringify(s);
}

async function apply(s: Step, model: Map<string, KeyModel>, exec: Exec): Promise<void> {
  const other = 1 - s.client;
  if (s.kind === 'write') {
    const k = KEYS[s.key]!;
    const m = model.get(k)!;
    let ifVersion: number | 'absent' | undefined;
    let expectConflict = false;
    if (s.cas === 'current') {
      ifVersion = m.version ?? 'absent';
    } else if (s.cas === 'absent') {
      ifVersion = 'absent';
      expectConflict = m.value !== undefined;
    } else if (s.cas === 'stale') {
      const older = m.history.filter((v) => v !== m.version);
      ifVersion = older.length > 0 ? older[older.length - 1]! : (m.history.at(-1) ?? 0) + 1_000_000;
      expectConflict = true;
    }
    const r = await exec(s.client, { kind: 'write', key: k, value: s.value, ...(ifVersion !== undefined && { ifVersion }), ...(s.ttl && { ttlMs: 1 }) });
    if (expectConflict) {
      assert.ok(!r.ok && r.code === 'CONFLICT', `${describe(s)}: expected CONFLICT (ifVersion ${String(ifVersion)}, history ${m.history.join(',')}), got ${JSON.stringify(r)}`);
    } else {
      assert.ok(r.ok, `${describe(s)}: expected success, got ${JSON.stringify(r)}`);
      const entry = r.result as Entry;
      assert.deepEqual(entry.value, s.value, `${describe(s)}: the returned entry holds the written value`);
      newVersion(m, entry.version, s);
      m.value = s.value;
      if (s.ttl) {
        // A 1 ms lease on life: gone by the next step. Its version still counts.
        await sleep(5);
        m.value = undefined;
        m.version = undefined;
      }
    }
    await expectRead(exec, other, k, m, s);
    return;
  }
  if (s.kind === 'delete') {
    const k = KEYS[s.key]!;
    const m = model.get(k)!;
    let ifVersion: number | undefined;
    let expectConflict = false;
    if (s.cas === 'current' && m.version !== undefined) ifVersion = m.version;
    if (s.cas === 'stale') {
      ifVersion = (m.history.at(-1) ?? 0) + 1_000_000;
      expectConflict = true;
    }
    const r = await exec(s.client, { kind: 'delete', key: k, ...(ifVersion !== undefined && { ifVersion }) });
    if (expectConflict) {
      assert.ok(!r.ok && r.code === 'CONFLICT', `${describe(s)}: expected CONFLICT, got ${JSON.stringify(r)}`);
    } else {
      assert.ok(r.ok, `${describe(s)}: expected success, got ${JSON.stringify(r)}`);
      assert.equal(r.result, m.value !== undefined, `${describe(s)}: delete says whether the key existed`);
      m.value = undefined;
      m.version = undefined;
    }
    await expectRead(exec, other, k, m, s);
    return;
  }
  if (s.kind === 'increment') {
    const k = KEYS[s.key]!;
    const m = model.get(k)!;
    const r = await exec(s.client, { kind: 'increment', key: k, by: s.by });
    if (m.value !== undefined && typeof m.value !== 'number') {
      assert.ok(!r.ok && r.code === 'INVALID_VALUE', `${describe(s)}: increment over ${JSON.stringify(m.value)} must be INVALID_VALUE, got ${JSON.stringify(r)}`);
    } else {
      assert.ok(r.ok, `${describe(s)}: expected success, got ${JSON.stringify(r)}`);
      const expected = ((m.value as number | undefined) ?? 0) + s.by;
      assert.equal(r.result, expected, `${describe(s)}: increment result`);
      m.value = expected;
      m.version = undefined; // learned by the read below
    }
    await expectRead(exec, other, k, m, s);
    return;
  }
  const from = KEYS[s.from]!;
  const to = KEYS[s.to]!;
  const r = await exec(s.client, { kind: 'tx', from, to, deleteFrom: s.deleteFrom });
  assert.ok(r.ok, `${describe(s)}: an uncontended transaction commits, got ${JSON.stringify(r)}`);
  const mf = model.get(from)!;
  const mt = model.get(to)!;
  const copied: JsonValue = { copy: mf.value ?? null };
  mt.value = copied;
  mt.version = undefined;
  if (s.deleteFrom && from !== to) {
    mf.value = undefined;
    mf.version = undefined;
  }
  await expectRead(exec, other, to, mt, s);
  if (from !== to) await expectRead(exec, other, from, mf, s);
}

/** A version given to a key must exceed every version it had before. */
function newVersion(m: KeyModel, version: number, s: Step): void {
  const top = m.history.length > 0 ? Math.max(...m.history) : 0;
  assert.ok(Number.isInteger(version) && version > top, `${describe(s)}: version ${version} must exceed every earlier version of the key (max ${top}); a repeated version allows ABA`);
  m.history.push(version);
  m.version = version;
}

/** Reads `key` through client `i` and checks it against the model (learning its version). */
async function expectRead(exec: Exec, i: number, key: string, m: KeyModel, s: Step): Promise<void> {
  const r = await exec(i, { kind: 'read', key });
  assert.ok(r.ok, `${describe(s)}: read ${key} failed: ${JSON.stringify(r)}`);
  const entry = r.result as Entry | null;
  if (m.value === undefined) {
    assert.equal(entry, null, `${describe(s)}: ${key} must read as absent, read ${JSON.stringify(entry)}`);
    return;
  }
  assert.ok(entry, `${describe(s)}: ${key} must exist (model ${JSON.stringify(m.value)})`);
  assert.deepEqual(entry.value, m.value, `${describe(s)}: ${key} as the other client reads it`);
  if (m.version === undefined) newVersion(m, entry.version, s);
  else assert.equal(entry.version, m.version, `${describe(s)}: ${key} version as the other client reads it`);
}

/** A worker process that runs property operations sent over its stdin. */
class Remote {
  #next = 0;
  readonly #pending = new Map<number, (r: PropertyResult) => void>();
  #stderr = '';

  private constructor(private readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let message: { type?: string; id?: number } & Record<string, unknown>;
      try {
        message = JSON.parse(line) as typeof message;
      } catch {
        return;
      }
      if (message.type !== 'result' || typeof message.id !== 'number') return;
      const { type: _type, id, ...result } = message;
      this.#pending.get(id)?.(result as unknown as PropertyResult);
      this.#pending.delete(id);
    });
    child.stderr!.on('data', (c: Buffer) => (this.#stderr += c.toString()));
  }

  static async start(f: Fixture): Promise<Remote> {
    const child = spawn(process.execPath, [workerPath(), JSON.stringify({ config: f.config, task: 'rpc', args: {} })], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, COMMUNICATION_BACKEND: '' },
    });
    const remote = new Remote(child);
    await new Promise<void>((resolve, reject) => {
      const onLine = (line: string) => {
        if (line.includes('"type":"ready"')) resolve();
      };
      createInterface({ input: child.stdout! }).on('line', onLine);
      child.once('exit', (code) => reject(new Error(`property worker exited (${code}) before it was ready: ${remote.#stderr.slice(-2000)}`)));
    });
    return remote;
  }

  run(op: PropertyOp): Promise<PropertyResult> {
    const id = this.#next++;
    return new Promise<PropertyResult>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`property worker did not answer ${JSON.stringify(op)} within 30 s: ${this.#stderr.slice(-2000)}`)), 30_000);
      this.#pending.set(id, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
      this.child.stdin!.write(`${JSON.stringify({ id, op })}\n`);
    });
  }

  async stop(): Promise<void> {
    const exited = new Promise<void>((resolve) => {
      if (this.child.exitCode !== null || this.child.signalCode !== null) resolve();
      else this.child.once('exit', () => resolve());
    });
    this.child.stdin!.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}
