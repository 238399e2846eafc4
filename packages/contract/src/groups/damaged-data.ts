import assert from 'node:assert/strict';
import { ConflictError, CorruptDataError, type StateClient } from '@agent-state/core';
import { fixtureTest, skipTest, type ContractTarget, type DamageHook, type Fixture, type TestApi } from '../harness.js';

const KEY = 'damaged/entry';
const SIBLING = 'damaged/sibling';

/**
 * Second wave, "Damaged data is never overwritten": where a read of a key gives
 * `CorruptDataError`, every other operation on that key (list, write, delete, increment, update,
 * commit) gives it too and changes nothing of the stored record; `repair(key)` is the one way
 * past it, says what was wrong and leaves the key's next version above every earlier one.
 * Needs `target.damage` (the backend's own way to damage a record).
 */
export function damagedDataGroup(t: TestApi, target: ContractTarget): void {
  t.describe('damaged data', () => {
    const refusing = (name: string, operations: (state: StateClient, version: number) => [string, () => Promise<unknown>][]) =>
      damageTest(t, target, name, async (f, hook) => {
        const state = await f.open();
        await state.write(SIBLING, 'healthy');
        const { version } = await damagedKey(state, f, hook);
        const before = await hook.stored(f.config, KEY);
        assert.notEqual(before, null, 'the damage hook left a stored record to protect');
        for (const [operation, run] of operations(state, version)) {
          await assert.rejects(run(), isCorrupt(operation), `${operation} of a damaged key must refuse with CorruptDataError`);
        }
        assert.deepStrictEqual(await hook.stored(f.config, KEY), before, 'the damaged record is exactly as it was: nothing overwrote or removed it');
        // Nothing of a refused operation reached a healthy key, and healthy keys stay usable.
        assert.equal((await state.read(SIBLING))?.value, 'healthy');
        await state.write(SIBLING, 'still writable');
        assert.equal((await state.read(SIBLING))?.value, 'still writable');
      });

    refusing('read, readMany and list of a damaged key refuse with CorruptDataError, never report it absent', (state) => [
      ['read', () => state.read(KEY)],
      ['readMany', () => state.readMany([SIBLING, KEY])],
      ['list', () => drain(state.list())],
      ['list with a prefix', () => drain(state.list({ prefix: 'damaged/' }))],
    ]);

    refusing('write, delete, increment and update of a damaged key refuse with CorruptDataError and overwrite nothing', (state) => [
      ['write', () => state.write(KEY, 'overwrite')],
      ['write with a ttl', () => state.write(KEY, 'overwrite', { ttlMs: 60_000 })],
      ['delete', () => state.delete(KEY)],
      ['increment', () => state.increment(KEY)],
      ['update', () => state.update(KEY, () => 'updated')],
    ]);

    refusing('a compare-and-set write or delete of a damaged key refuses with CorruptDataError (not ConflictError) and overwrites nothing', (state, version) => [
      [`write with ifVersion ${version}`, () => state.write(KEY, 'cas', { ifVersion: version })],
      ["write with ifVersion 'absent'", () => state.write(KEY, 'create', { ifVersion: 'absent' })],
      [`delete with ifVersion ${version}`, () => state.delete(KEY, { ifVersion: version })],
    ]);

    refusing('a commit that reads, writes or deletes a damaged key refuses with CorruptDataError and writes nothing', (state) => [
      ['a transaction that reads it', () => state.transaction(async (tx) => void tx.write(KEY, (await tx.read(KEY))?.value ?? 'tx'))],
      ['a commit that only writes it', () => state.transaction((tx) => void tx.write(KEY, 'blind'))],
      ['a commit that only deletes it', () => state.transaction((tx) => void tx.delete(KEY))],
      ['a commit that writes it beside a healthy key', () => state.transaction((tx) => void (tx.write(SIBLING, 'changed'), tx.write(KEY, 'blind')))],
    ]);

    damageTest(t, target, 'another client refuses a damaged key too: the damage is in the store, not in one client', async (f, hook) => {
      const [a, b] = [await f.open(), await f.open()];
      await damagedKey(a, f, hook);
      const before = await hook.stored(f.config, KEY);
      await assert.rejects(b.read(KEY), isCorrupt('read'));
      await assert.rejects(b.write(KEY, 'from b'), isCorrupt('write'));
      assert.deepStrictEqual(await hook.stored(f.config, KEY), before);
    });

    fixtureTest(t, target, 'repair leaves a sound key and an absent key alone: it never deletes data that reads', async (f) => {
      const state = await f.open();
      const written = await state.write(KEY, { sound: true });
      assert.deepEqual(await state.repair(KEY), { key: KEY, removed: false });
      const after = await state.read(KEY);
      assert.deepEqual(after?.value, { sound: true }, 'the sound entry is still there');
      assert.equal(after?.version, written.version, 'with its version');
      assert.deepEqual(await state.repair(`${KEY}-never`), { key: `${KEY}-never`, removed: false });
    });

    damageTest(t, target, 'repair is the one way past a damaged key: it says what was wrong, and the key starts again above its old version', async (f, hook) => {
      const state = await f.open();
      const { version } = await damagedKey(state, f, hook);
      const report = await state.repair(KEY);
      assert.equal(report.key, KEY);
      assert.equal(report.removed, true, 'repair removed the damaged entry');
      assert.equal(typeof report.damage, 'string', 'the report names the damage');
      assert.ok(report.damage!.trim().length > 0, 'the report names the damage');
      assert.equal(await state.read(KEY), null, 'after repair the key is absent');
      const fresh = await state.write(KEY, 'repaired', { ifVersion: 'absent' });
      assert.ok(fresh.version > version, `version ${fresh.version} after repair must exceed the damaged entry's ${version}`);
      await assert.rejects(state.write(KEY, 'stale', { ifVersion: version }), ConflictError, 'a CAS holding the damaged entry\'s version fails');
      assert.deepEqual((await state.read(KEY))?.value, 'repaired');
    });
  });
}

/** A test that needs `target.damage`: skipped with the reason without it, failing under `CI=true`. */
function damageTest(t: TestApi, target: ContractTarget, name: string, fn: (f: Fixture, hook: DamageHook) => Promise<void>): void {
  const hook = target.damage;
  if (hook === false) return skipTest(t, target, name, 'the backend keeps no serialised record that could be damaged');
  if (!hook) {
    if (process.env.CI === 'true') {
      t.it(name, () => {
        throw new Error(`the ${target.name} contract target has no damage hook: required under CI=true (or damage: false when nothing can be damaged)`);
      });
    } else skipTest(t, target, name, 'the target gives no damage hook');
    return;
  }
  fixtureTest(t, target, name, (f) => fn(f, hook));
}

/** Writes {@link KEY} three times (so its version is above 1), damages it, and checks a read refuses. */
async function damagedKey(state: StateClient, f: Fixture, hook: DamageHook): Promise<{ version: number }> {
  let version = 0;
  for (let i = 0; i < 3; i++) version = (await state.write(KEY, { i, pad: 'x'.repeat(64) })).version;
  await hook.damage(f.config, KEY);
  await assert.rejects(state.read(KEY), isCorrupt('read'), 'the damage hook damaged the record: a read refuses');
  return { version };
}

const isCorrupt = (operation: string) => (e: unknown) => {
  assert.ok(e instanceof CorruptDataError, `${operation}: expected CorruptDataError, got ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
  assert.equal(e.code, 'CORRUPT_DATA');
  return true;
};

async function drain(entries: AsyncIterable<unknown>): Promise<number> {
  let n = 0;
  for await (const _ of entries) n++;
  return n;
}
