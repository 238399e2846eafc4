/**
 * The dashboard in a real browser (headless Debian chromium driven by playwright-core): a server
 * whose store holds registered agents, a queue with waiting and in-flight jobs, a held lock and a
 * dead letter; the rendered page shows each with the right figures; a heartbeat that stops turns
 * its agent `unhealthy` on screen without a reload; with actions off the page offers none (and
 * the action routes answer 403); with actions on, a confirmed force-release frees the lock and
 * is written to the `audit` log. Screenshots go to the test's temp dir.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { serve, type RunningServer } from '../src/serve.js';

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && process.env['CI'] === 'true') throw new Error(`CI=true but there is no chromium at ${CHROMIUM} (apt-get install -y chromium)`);

const SCREENSHOT_DIR = process.env['DASHBOARD_SCREENSHOT_DIR'];

interface Fixture {
  dir: string;
  server: RunningServer;
}

async function start(actions: boolean): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'agent-state-dashboard-'));
  writeFileSync(join(dir, 'project.yml'), `communication:\n  backend: sqlite\n  namespace: d-${randomBytes(4).toString('hex')}\n  settings:\n    database_path: ./state.db\n`);
  const server = await serve({ cwd: dir, env: { AGENT_STATE_TOKEN: `t-${randomBytes(12).toString('hex')}` }, port: 0, dashboardActions: actions, dashboardIntervalMs: 250, out: () => undefined, err: () => undefined });
  return { dir, server };
}

async function stop(f: Fixture | undefined): Promise<void> {
  if (!f) return;
  await f.server.stop();
  rmSync(f.dir, { recursive: true, force: true });
}

/** A fresh profile (its own --user-data-dir in the test's temp dir) in headless chromium. */
async function launch(dir: string): Promise<BrowserContext> {
  return chromium.launchPersistentContext(join(dir, 'chromium-profile'), {
    executablePath: CHROMIUM,
    headless: true,
    timeout: 60_000,
    viewport: { width: 1400, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

const text = (page: Page, selector: string) => page.locator(selector).first().innerText({ timeout: 20_000 });

describe.skipIf(!haveChromium)('dashboard in headless chromium', () => {
  let f: Fixture | undefined;
  let browser: BrowserContext | undefined;
  let beat: NodeJS.Timeout | undefined;
  let lockToken = 0;

  beforeAll(async () => {
    f = await start(false);
    const state = f.server.state;
    await state.agents.register('planner', { role: 'planner' }, { heartbeatIntervalMs: 60_000 });
    await state.agents.register('worker-1', { role: 'worker' }, { heartbeatIntervalMs: 400 });
    beat = setInterval(() => void state.agents.heartbeat('worker-1', { done: 3 }).catch(() => undefined), 100);
    const q = state.queue('builds', { maxAttempts: 1 });
    await q.enqueue({ task: 'poison' }, { priority: 'high' });
    const poison = await q.dequeue();
    await poison!.nack();
    for (const n of [1, 2, 3]) await q.enqueue({ task: `build-${n}` });
    // This claim moves the poison job (1 attempt of 1) to the dead letters and takes build-1.
    const claimed = await q.dequeue({ leaseMs: 120_000 });
    expect(claimed?.payload).toEqual({ task: 'build-1' });
    lockToken = (await state.lock('files/src/app.ts', { ttlMs: 120_000 })).token;
    await state.mailbox('planner').send('worker-1', { do: 'build-4' });
    await state.log('progress').append({ step: 'compiled' });
    browser = await launch(f.dir);
  });

  afterAll(async () => {
    clearInterval(beat);
    await browser?.close();
    await stop(f);
  });

  it('shows agents, queue figures, the held lock and the dead letter; a stopped heartbeat turns unhealthy live; read-only offers no action', async () => {
    const page = await browser!.newPage();
    const url = `${f!.server.url}/?token=${encodeURIComponent(f!.server.token)}`;
    const res = await page.goto(url);
    expect(res?.status()).toBe(200);
    // The token moved into the cookie: the page's own URL no longer carries it.
    expect(page.url()).toBe(`${f!.server.url}/`);
    const cookies = await page.context().cookies();
    expect(cookies.find((c) => c.name === 'agent_state_token')).toMatchObject({ httpOnly: true, sameSite: 'Strict' });

    await page.locator('#live', { hasText: 'live' }).waitFor({ timeout: 20_000 });
    expect(await text(page, 'tr[data-agent="planner"] .status')).toBe('healthy');
    expect(await text(page, 'tr[data-agent="worker-1"] .status')).toBe('healthy');
    expect(await text(page, 'tr[data-queue="builds"] .waiting')).toBe('2');
    expect(await text(page, 'tr[data-queue="builds"] .inflight')).toBe('1');
    expect(await text(page, 'tr[data-queue="builds"] .delayed')).toBe('0');
    expect(await text(page, 'tr[data-queue="builds"] .dead')).toBe('1');
    expect(await text(page, 'tr[data-queue="builds"] .oldest')).not.toBe('–');
    expect(await text(page, 'tr[data-lock="files/src/app.ts"] .token')).toBe(String(lockToken));
    expect(await text(page, 'tr[data-lock="files/src/app.ts"] .owner')).toContain(`:${process.pid}:`);
    expect(await text(page, '#dead tbody')).toContain('poison');
    expect(await text(page, '#mail tbody')).toContain('build-4');
    expect(await text(page, '#logs [data-log="progress"]')).toContain('compiled');
    expect(await text(page, '#ops tbody')).toContain('tryLock');
    expect(await page.locator('button').count()).toBe(0);
    await page.screenshot({ path: join(f!.dir, 'dashboard.png') });
    if (SCREENSHOT_DIR) await page.screenshot({ path: join(SCREENSHOT_DIR, 'dashboard.png'), clip: { x: 0, y: 0, width: 1400, height: 760 } });

    // The heartbeat stops: after 2 × 400 ms of silence the agent is unhealthy, seen without a reload.
    clearInterval(beat);
    await page.locator('tr[data-agent="worker-1"] .status', { hasText: 'unhealthy' }).waitFor({ timeout: 20_000 });
    expect(await text(page, 'tr[data-agent="planner"] .status')).toBe('healthy');
    await page.screenshot({ path: join(f!.dir, 'dashboard-unhealthy.png') });

    // Read-only: the action routes refuse even a direct call with the cookie.
    const refused = await page.evaluate(async () => {
      const r = await fetch('/dashboard/actions/release-lock', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ resource: 'files/src/app.ts', token: 1 }) });
      return { status: r.status, body: (await r.json()) as { error: { code: string } } };
    });
    expect(refused).toEqual({ status: 403, body: { error: { code: 'FORBIDDEN', message: expect.stringContaining('--dashboard-actions') } } });
    await page.close();
  });

  it('lists a lock held by another process on the same store (not through this server) with owner, token and time left', async () => {
    // Another agent: its own process and client, straight on the store (no server involved).
    const core = pathToFileURL(resolve(fileURLToPath(import.meta.url), '../../../../packages/core/dist/index.js')).href;
    const script = `const { openState } = await import(${JSON.stringify(core)});
const state = await openState({ cwd: process.argv[1] });
const lock = await state.lock('agents/remote/job', { ttlMs: 120000 });
process.stdout.write(JSON.stringify({ token: lock.token, owner: lock.owner }) + '\\n');
process.stdin.resume();
process.stdin.on('end', async () => { await lock.release(); await state.close(); process.exit(0); });`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script, f!.dir], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
    try {
      const held = await new Promise<{ token: number; owner: string }>((res, rej) => {
        const timer = setTimeout(() => rej(new Error(`the other process took no lock within 20 s: ${stderr}`)), 20_000);
        let out = '';
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('\n')) {
            clearTimeout(timer);
            res(JSON.parse(out) as { token: number; owner: string });
          }
        });
        void exited.then(() => rej(new Error(`the other process exited: ${stderr}`)));
      });
      expect(held.owner).toContain(`:${child.pid}:`);
      const page = await browser!.newPage();
      await page.goto(`${f!.server.url}/?token=${encodeURIComponent(f!.server.token)}`);
      const row = 'tr[data-lock="agents/remote/job"]';
      await page.locator(row).waitFor({ timeout: 20_000 });
      expect(await text(page, `${row} .token`)).toBe(String(held.token));
      expect(await text(page, `${row} .owner`)).toBe(held.owner);
      expect(await text(page, `${row} .left`)).toMatch(/^\d+(\.\d+)?\s*(s|min|m)/);
      expect(await page.locator(row).getAttribute('data-via')).toBe('store');
      // The server's own lease is listed beside it, marked as taken through the server.
      expect(await page.locator('tr[data-lock="files/src/app.ts"]').getAttribute('data-via')).toBe('server');
      expect(await page.locator('#locks .scope').textContent()).toContain('every holder in the store');
      // SQLite registers no lock waiters: the column says so and points at the contention table.
      expect(await text(page, `${row} .waiters`)).toBe('—');
      await page.screenshot({ path: join(f!.dir, 'dashboard-foreign-lock.png') });
      // Released by its holder: gone from the page without a reload.
      child.stdin.end();
      expect(await exited).toBe(0);
      await page.locator(row).waitFor({ state: 'detached', timeout: 20_000 });
      await page.close();
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('refuses the page and its stream without the token, and a wrong ?token= never replaces a good cookie', async () => {
    const base = f!.server.url;
    expect((await fetch(`${base}/`)).status).toBe(401);
    expect((await fetch(`${base}/?token=wrong`)).status).toBe(401);
    expect((await fetch(`${base}/dashboard/snapshot`)).status).toBe(401);
    const good = `agent_state_token=${encodeURIComponent(f!.server.token)}`;
    const wrong = await fetch(`${base}/?token=wrong`, { headers: { cookie: good }, redirect: 'manual' });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('set-cookie')).toBeNull();
    // The cookie authorizes the dashboard's own paths only, not the API.
    expect((await fetch(`${base}/dashboard/snapshot`, { headers: { cookie: good } })).status).toBe(200);
    expect((await fetch(`${base}/v1/agents`, { headers: { cookie: good } })).status).toBe(401);
  });

  it('with actions on: a confirmed force-release frees the lock, fences its holder and is audited', async () => {
    const g = await start(true);
    try {
      const state = g.server.state;
      const lock = await state.lock('deploy/prod', { ttlMs: 120_000 });
      const b = await launch(g.dir);
      try {
        const page = await b.newPage();
        await page.goto(`${g.server.url}/?token=${encodeURIComponent(g.server.token)}`);
        const button = page.locator('tr[data-lock="deploy/prod"] button[data-action="release"]');
        await button.waitFor({ timeout: 20_000 });
        page.once('dialog', (d) => void d.accept());
        await button.click();
        await page.locator('tr[data-lock="deploy/prod"]').waitFor({ state: 'detached', timeout: 20_000 });
        await expect(state.write('deploy/status', 'x', { fence: lock })).rejects.toMatchObject({ code: 'LOCK_LOST' });
        const audit = [];
        for await (const r of state.log('audit').read()) audit.push(r.record);
        expect(audit).toEqual([expect.objectContaining({ action: 'lock.force-release', target: 'deploy/prod', before: expect.objectContaining({ token: lock.token, owner: lock.owner }), via: 'dashboard' })]);
        await page.locator('#logs [data-log="audit"]', { hasText: 'lock.force-release' }).waitFor({ timeout: 20_000 });
        await page.close();
      } finally {
        await b.close();
      }
    } finally {
      await stop(g);
    }
  });
});
