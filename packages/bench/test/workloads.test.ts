import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WORKER_PATH } from '../src/harness/processes.js';
import { PROFILES } from '../src/profile.js';
import { writeReport } from '../src/report/write.js';
import { runBench } from '../src/run.js';
import { postgresAnswers, postgresUrlFromEnv } from '../src/stores.js';
import { SUBJECTS } from '../src/subjects/catalog.js';
import { allWorkloads } from '../src/workloads/catalog.js';

// Multi-process cases run the compiled worker: `npm test` builds first (turbo), by hand run `npm run build`.
const built = existsSync(WORKER_PATH);
if (!built && process.env['CI'] === 'true') throw new Error(`CI=true but the bench worker ${WORKER_PATH} is not built: run npm run build first`);

describe.each(['file', 'sqlite'] as const)('every workload on the %s backend (test profile, no timings asserted)', (backend) => {
  it.skipIf(!built)('runs every workload on every subject that can run it, none failing, and writes the report files', async () => {
    const before = new Set(readdirTmp());
    const report = await runBench({ backends: [backend], profile: PROFILES.test });
    expect(report.backends).toEqual([{ name: backend, status: 'ran' }]);
    // A case may be skipped (with its reason) only off CI, e.g. when the CLI is not built here.
    const notOk = report.cases.filter((c) => c.status === 'failed' || (c.status === 'skipped' && process.env['CI'] === 'true'));
    expect(notOk.map((c) => `${c.workload}/${c.subject}: ${c.status}: ${c.note}`)).toEqual([]);
    for (const c of report.cases.filter((x) => x.status === 'skipped')) console.warn(`skipped ${c.workload}/${c.subject}: ${c.note}`);
    const ranOurs = new Set(report.cases.filter((c) => c.subject === 'ours').map((c) => c.workload));
    const expected = allWorkloads(PROFILES.test).filter((w) => !w.backends || w.backends.includes(backend));
    expect([...ranOurs].sort()).toEqual(expected.map((w) => w.id).sort());
    // Every baseline subject of the backend took part in at least one workload.
    const subjects = new Set(report.cases.map((c) => c.subject));
    for (const spec of SUBJECTS[backend]) expect(subjects).toContain(spec.id);
    expect(report.targets.length).toBeGreaterThan(0);
    expect(report.recommendations.length).toBeGreaterThan(0);

    const out = mkdtempSync(join(tmpdir(), 'bench-report-'));
    try {
      const { table, files } = writeReport(report, out);
      expect(table).toContain('ours');
      for (const f of files) expect(existsSync(f)).toBe(true);
      expect(JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')).cases).toHaveLength(report.cases.length);
      expect(readFileSync(join(out, 'chart.svg'), 'utf8')).toMatch(/^<svg[\s\S]*<\/svg>$/);
      expect(readFileSync(join(out, 'compare.svg'), 'utf8')).toMatch(/^<svg[\s\S]*<\/svg>$/);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
    // The run's own stores are gone.
    const leftover = readdirTmp().filter((d) => !before.has(d) && d.startsWith(`agent-state-bench-${backend}-`));
    expect(leftover).toEqual([]);
  });
});

function readdirTmp(): string[] {
  return readdirSync(tmpdir());
}

describe('every workload on the postgres backend (test profile, no timings asserted)', () => {
  const url = postgresUrlFromEnv();
  it.skipIf(!built)('runs every workload on ours, raw pg and pg-boss, none failing, and leaves no schema behind', async (ctx) => {
    if (!(await postgresAnswers(url))) {
      // On CI Postgres is started by .ci/run: its absence is a failure there, a stated skip elsewhere.
      if (process.env['CI'] === 'true') throw new Error(`Postgres does not answer at ${url}`);
      ctx.skip(`Postgres does not answer at ${url}`);
      return;
    }
    const report = await runBench({ backends: ['postgres'], profile: PROFILES.test });
    expect(report.backends).toEqual([{ name: 'postgres', status: 'ran' }]);
    const notOk = report.cases.filter((c) => c.status !== 'ok');
    expect(notOk.map((c) => `${c.workload}/${c.subject}: ${c.status}: ${c.note}`)).toEqual([]);
    const subjects = new Set(report.cases.map((c) => c.subject));
    for (const spec of SUBJECTS.postgres) expect(subjects).toContain(spec.id);
    const { default: pg } = await import('pg');
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const left = await client.query(`SELECT nspname FROM pg_namespace WHERE nspname LIKE 'bench\\_%'`);
      expect(left.rows).toEqual([]);
    } finally {
      await client.end();
    }
  });
});
