import { describe, expect, it } from 'vitest';
import { firstPartyTarget, moduleTarget, validate } from '../src/index.js';

const broken = new URL('./fixtures/restarting-versions-backend.mjs', import.meta.url).href;
const hanging = new URL('./fixtures/hanging-list-backend.mjs', import.meta.url).href;

describe('validate()', () => {
  it('reports every required group green on the memory backend', async () => {
    const { target, teardown } = await firstPartyTarget('memory');
    try {
      const report = await validate(target);
      const failures = report.groups.flatMap((g) => g.failures.map((f) => `${g.name} › ${f.test}: ${f.message}`));
      expect(failures).toEqual([]);
      expect(report.ok).toBe(true);
      expect(report.backend).toBe('memory');
      expect(report.capabilities).toMatchObject({ backend: 'memory', multiProcess: false, crashSafe: false, queues: false, storageCount: true, unavailable: false });
      const byName = new Map(report.groups.map((g) => [g.name, g]));
      for (const name of ['round-trip', 'compare-and-set', 'versions', 'queues', 'logs', 'lock-many', 'retention', 'properties', 'lifecycle']) {
        expect(byName.get(name), name).toMatchObject({ required: true, failed: 0 });
        expect(byName.get(name)!.passed, name).toBeGreaterThan(0);
      }
      // What memory truthfully lacks is optional and skipped, with the reason.
      for (const name of ['multi-process', 'crash-safety', 'unavailable', 'native coordination']) {
        expect(byName.get(name), name).toMatchObject({ required: false, passed: 0, failed: 0 });
        expect(byName.get(name)!.skips.length, name).toBeGreaterThan(0);
      }
      expect(byName.get('multi-process')!.skips[0]!.reason).toBe('backend is single-process');
    } finally {
      await teardown();
    }
  });

  it('fails the versions group of a backend whose versions restart after a delete, naming the test', async () => {
    const { target } = await moduleTarget(broken, false);
    const report = await validate(target, { only: ['round-trip', 'versions'] });
    expect(report.ok).toBe(false);
    expect(report.capabilities.backend).toBe('restarting-versions');
    const versions = report.groups.find((g) => g.name === 'versions')!;
    expect(versions.required).toBe(true);
    expect(versions.failed).toBeGreaterThan(0);
    expect(versions.failures.map((f) => f.test)).toContain('a key deleted and created again gets a version above every earlier one: the stale CAS fails');
    expect(versions.failures[0]!.message).toMatch(/version/);
    // Only the broken promise fails: round trips work on this backend.
    expect(report.groups.find((g) => g.name === 'round-trip')).toMatchObject({ failed: 0 });
  });

  it('ends a test that never settles at its deadline, fails it with the reason, and goes on', async () => {
    const { target } = await moduleTarget(hanging, false);
    const report = await validate(target, { only: ['list', 'compare-and-set'], testTimeoutMs: 2_000 });
    expect(report.ok).toBe(false);
    const list = report.groups.find((g) => g.name === 'list')!;
    expect(list.failed).toBeGreaterThan(0);
    expect(list.failures[0]!.message).toBe('timed out after 2000 ms');
    // The run went on after the hung tests: compare-and-set still ran and passed.
    expect(report.groups.find((g) => g.name === 'compare-and-set')).toMatchObject({ failed: 0 });
    expect(report.groups.find((g) => g.name === 'compare-and-set')!.passed).toBeGreaterThan(0);
  });
});
