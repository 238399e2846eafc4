import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { claimStatement } from '../src/queues.js';
import { NativeFixture } from './native-helpers.js';
import { RUN_SCHEMA, TEST_URL, dropRunSchema, requireServer } from './pg-helpers.js';

/** A node of `EXPLAIN (ANALYZE, FORMAT JSON)`. */
interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Actual Rows': number;
  'Actual Loops': number;
  'Rows Removed by Filter'?: number;
  'Rows Removed by Join Filter'?: number;
  Plans?: PlanNode[];
}
const planNodes = (node: PlanNode): PlanNode[] => [node, ...(node.Plans ?? []).flatMap(planNodes)];

const up = await requireServer();

describe.skipIf(!up)('native queues', () => {
  afterAll(() => dropRunSchema());

  it('claims by priority, then sequence; settles only the current claim; counts every state', async () => {
    const f = new NativeFixture();
    try {
      const b = await f.backend();
      const low = await b.queues.enqueue('q', { json: '"low"', priority: 0 });
      const high = await b.queues.enqueue('q', { json: '"high"', priority: 10 });
      const later = await b.queues.enqueue('q', { json: '"later"', priority: 0, delayMs: 60_000 });
      expect([low.sequence, high.sequence, later.sequence]).toEqual([1, 2, 3]);
      expect(await b.queues.counts('q')).toEqual({ waiting: 2, inFlight: 0, delayed: 1, dead: 0 });
      const first = await b.queues.claim('q', { leaseMs: 60_000, owner: 'o' });
      expect(first?.json).toBe('"high"');
      expect(first?.attempts).toBe(1);
      const second = await b.queues.claim('q', { leaseMs: 60_000, owner: 'o' });
      expect(second?.json).toBe('"low"');
      expect(await b.queues.claim('q', { leaseMs: 60_000, owner: 'o' })).toBeNull();
      expect(await b.queues.counts('q')).toEqual({ waiting: 0, inFlight: 2, delayed: 1, dead: 0 });
      expect(await b.queues.settle('q', first!.id, 'not-the-lease', { kind: 'ack' })).toBe(false);
      expect(await b.queues.settle('q', first!.id, first!.leaseId, { kind: 'ack' })).toBe(true);
      expect(await b.queues.settle('q', first!.id, first!.leaseId, { kind: 'ack' })).toBe(false);
      expect(await b.queues.settle('q', second!.id, second!.leaseId, { kind: 'nack', delayMs: 0 })).toBe(true);
      const states = (await b.queues.jobs('q', { limit: 10 })).map((j) => [j.sequence, j.state]);
      expect(states).toEqual([
        [1, 'waiting'],
        [3, 'delayed'],
      ]);
      expect(await b.queues.names()).toEqual(['q']);
    } finally {
      await f.dispose();
    }
  });

  it('a job past maxAttempts goes to the dead letters on the next claim; retry brings it back with attempts 0', async () => {
    const f = new NativeFixture();
    try {
      const b = await f.backend();
      const { id } = await b.queues.enqueue('q', { json: '1', priority: 0 });
      for (let i = 0; i < 2; i++) {
        const job = await b.queues.claim('q', { leaseMs: 60_000, owner: 'o', maxAttempts: 2 });
        expect(job?.id).toBe(id);
        await b.queues.settle('q', id, job!.leaseId, { kind: 'nack', delayMs: 0 });
      }
      expect(await b.queues.claim('q', { leaseMs: 60_000, owner: 'o', maxAttempts: 2 })).toBeNull();
      expect((await b.queues.counts('q')).dead).toBe(1);
      expect((await b.queues.jobs('q', { state: 'dead', limit: 10 })).map((j) => j.id)).toEqual([id]);
      expect(await b.queues.reviveDead('q', id, 'retry')).toBe(true);
      const again = await b.queues.claim('q', { leaseMs: 60_000, owner: 'o', maxAttempts: 2 });
      expect(again?.attempts).toBe(1);
      expect(await b.queues.reviveDead('q', id, 'delete')).toBe(false);
      expect(await b.queues.reviveDead('q', 'nonsense', 'delete')).toBe(false);
    } finally {
      await f.dispose();
    }
  });

  it('sixteen processes race one job: exactly one claims it', async () => {
    const f = new NativeFixture();
    try {
      const b = await f.backend();
      const { id } = await b.queues.enqueue('race', { json: '"only"', priority: 0 });
      const workers = Array.from({ length: 16 }, () => f.spawn('claim', { queue: 'race' }));
      await Promise.all(workers.map((w) => w.waitFor('ready')));
      for (const w of workers) w.go();
      const results = await Promise.all(workers.map((w) => w.waitFor('result')));
      const winners = results.filter((r) => r.id !== null);
      expect(winners).toHaveLength(1);
      expect(winners[0]!.id).toBe(id);
    } finally {
      await f.dispose();
    }
  }, 120_000);

  it('a claim behind 10,000 waiting and 1,000 in-flight jobs reads a row or two, by index, even with the statistics of an empty table', async () => {
    // The plan, not a timing: each scan of queue_jobs must come back with at most one row and
    // filter none away. Right after a bulk load (no ANALYZE yet), the planner once joined the
    // picked seq to an index scan of the whole queue: 10,000 rows read per claim.
    const f = new NativeFixture();
    const client = new pg.Client({ connectionString: TEST_URL, connectionTimeoutMillis: 10_000 });
    try {
      const b = await f.backend();
      await b.queues.enqueue('backlog', { json: '0', priority: 0 }); // the queue row and its counter
      await client.connect();
      const jobs = `"${RUN_SCHEMA}".queue_jobs`;
      await client.query(
        `INSERT INTO ${jobs} (namespace, queue, seq, state, priority, due_at, lease_id, attempts, enqueued_at, payload)
         SELECT $1, 'backlog', g, CASE WHEN g <= 1001 THEN 2 ELSE 0 END, 0,
                CASE WHEN g <= 1001 THEN 9e15::bigint ELSE NULL END, CASE WHEN g <= 1001 THEN 'held' ELSE NULL END, 1, 0, '"j"'
         FROM generate_series(2, 11001) AS g`,
        [f.namespace],
      );
      await client.query('BEGIN');
      const explained = await client.query<{ 'QUERY PLAN': { Plan: PlanNode }[] }>(`EXPLAIN (ANALYZE, FORMAT JSON) ${claimStatement(RUN_SCHEMA)}`, [
        f.namespace,
        'backlog',
        null,
        'lease-x',
        60_000,
      ]);
      await client.query('ROLLBACK');
      const scans = planNodes(explained.rows[0]!['QUERY PLAN'][0]!.Plan).filter((n) => n['Relation Name'] === 'queue_jobs');
      expect(scans.length).toBeGreaterThanOrEqual(3); // ready, due, the updated row
      for (const scan of scans) {
        const where = `${scan['Node Type']} ${scan['Index Name'] ?? ''}`;
        expect(scan['Actual Rows'] * scan['Actual Loops'], where).toBeLessThanOrEqual(1);
        expect(scan['Rows Removed by Filter'] ?? 0, where).toBeLessThanOrEqual(1);
        expect(scan['Rows Removed by Join Filter'] ?? 0, where).toBeLessThanOrEqual(1);
        expect(scan['Node Type'], where).not.toBe('Seq Scan');
      }
      const claimed = await b.queues.claim('backlog', { leaseMs: 60_000, owner: 'o' });
      expect(claimed?.sequence).toBe(1);
    } finally {
      await client.end().catch(() => undefined);
      await f.dispose();
    }
  }, 60_000);

  it('claims keep reading a few pages, not the whole backlog, after a small queue churned and 10,000 jobs were enqueued without ANALYZE', async () => {
    // The shape of the bench's sequence (claim-small, then claim-backlog in the same store), where
    // with no statistics the planner once found the first waiting job by the primary key and a
    // sort of the whole queue (10,006 buffers, 8 ms a claim) after a few hundred claims. This
    // bulk-loaded version did not flip the old plan here: it bounds the pages read, it does not
    // reproduce the flip.
    const f = new NativeFixture();
    const client = new pg.Client({ connectionString: TEST_URL, connectionTimeoutMillis: 10_000 });
    const cycle = async (queue: string) => {
      const job = (await b.queues.claim(queue, { leaseMs: 60_000, owner: 'o' }))!;
      expect(await b.queues.settle(queue, job.id, job.leaseId, { kind: 'ack' })).toBe(true);
      await b.queues.enqueue(queue, { json: '1', priority: 0 });
    };
    let b!: Awaited<ReturnType<NativeFixture['backend']>>;
    try {
      b = await f.backend();
      for (let i = 0; i < 100; i++) await b.queues.enqueue('small', { json: String(i), priority: 0 });
      for (let i = 0; i < 300; i++) await cycle('small');
      await b.queues.enqueue('backlog', { json: '0', priority: 0 });
      await client.connect();
      await client.query(
        `INSERT INTO "${RUN_SCHEMA}".queue_jobs (namespace, queue, seq, state, priority, due_at, lease_id, attempts, enqueued_at, payload)
         SELECT $1, 'backlog', g, 0, 0, NULL, NULL, 0, 0, '"j"' FROM generate_series(2, 10001) AS g`,
        [f.namespace],
      );
      await client.query(`UPDATE "${RUN_SCHEMA}".queues SET last_seq = 10001 WHERE namespace = $1 AND queue = 'backlog'`, [f.namespace]);
      for (let i = 0; i < 300; i++) await cycle('backlog');
      await client.query('BEGIN');
      const explained = await client.query<{ 'QUERY PLAN': { Plan: PlanNode & { 'Shared Hit Blocks': number; 'Shared Read Blocks': number } }[] }>(
        `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${claimStatement(RUN_SCHEMA)}`,
        [f.namespace, 'backlog', null, 'lease-x', 60_000],
      );
      await client.query('ROLLBACK');
      const plan = explained.rows[0]!['QUERY PLAN'][0]!.Plan;
      // Every page the claim touched, the first waiting job's lookup included (a full walk: ~10,000).
      expect(plan['Shared Hit Blocks'] + plan['Shared Read Blocks']).toBeLessThan(500);
    } finally {
      await client.end().catch(() => undefined);
      await f.dispose();
    }
  }, 120_000);
});
