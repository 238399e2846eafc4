import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { createHash } from 'node:crypto';
import { loadConfig, openState, usePortableCoordination } from '@agent-state/core';
import { moduleOf, registerBackend } from '@agent-state/core/backend';
import type { CommunicationBackend, CommunicationConfigInput, StateClient } from '@agent-state/core';

/** The slice of a test runner the suite needs (vitest, jest and node:test all fit). */
export interface TestApi {
  describe(name: string, fn: () => void): void;
  it: TestFn & { skip: TestFn };
}
type TestFn = (name: string, fn: () => Promise<void> | void, timeoutMs?: number) => void;

/** What a backend package hands the suite. */
export interface ContractTarget {
  /** Backend name, for test titles. */
  name: string;
  /**
   * A fresh, isolated store for one test (its own directory, database or namespace), as a
   * serialisable `communication` block: worker processes open the same store from it.
   */
  config(): CommunicationConfigInput | Promise<CommunicationConfigInput>;
  /** Removes what `config()` made (directory, keys). Called after each test, pass or fail. */
  cleanup?(config: CommunicationConfigInput): Promise<void> | void;
  /** Several OS processes may share one store. False skips the multi-process groups. */
  multiProcess: boolean;
  /** Data survives a crash (kill -9) of the writer. False skips the crash groups. */
  crashSafe?: boolean;
  /** A config whose backend cannot be reached (closed port, unwritable path); enables the unavailable group. */
  unavailableConfig?(): CommunicationConfigInput | Promise<CommunicationConfigInput>;
  /** Scale for loops in tests (1 = default); slow backends may lower it. */
  scale?: number;
  /**
   * How many records the store of `config` holds now: rows, keys, files, index members, stream
   * entries (counts, not bytes). Enables the retention group; without it that group is skipped
   * (and fails under `CI=true`).
   */
  storageCount?(config: CommunicationConfigInput): Promise<number>;
  /**
   * Every client the suite opens (and every worker) ignores the backend's native queues, logs
   * and notify and uses core's portable families. Set by `runContractSuite(t, target, { portable: true })`.
   */
  portable?: boolean;
  /**
   * A backend module to open the store with instead of the one `config().backend` names: an
   * absolute path or a package name exporting a backend module `{ name, settings, create }` (as
   * `backendModule` or its default export) or the older `createBackend(config)`. Worker processes
   * import it too, so it must be importable from
   * any directory (use an absolute path for a file).
   */
  backendModule?: string;
  /**
   * Damages one key's stored record around the backend, in the backend's own format (bad JSON in
   * a row, garbage in a Redis value, a torn file, a node that is not an entry), and reads that
   * record back raw. Enables the damaged-data group; without it that group is skipped (and fails
   * under `CI=true`). `false` says the backend keeps no serialised record that could be damaged
   * (the memory backend): the group is skipped with that reason, CI or not.
   */
  damage?: DamageHook | false;
}

/**
 * See {@link ContractTarget.damage}. Both methods work on the store of `config` through the
 * backend's own driver (never through a client), so what they see is what is stored.
 */
export interface DamageHook {
  /**
   * Damages the stored record of `key`, which the group has written (more than once) just before,
   * so that a read of it must give `CorruptDataError`.
   */
  damage(config: CommunicationConfigInput, key: string): Promise<void> | void;
  /**
   * The stored record of `key` as the driver sees it (text, row, node), or `null` when there is
   * none; compared with `deepStrictEqual` before and after the refused operations.
   */
  stored(config: CommunicationConfigInput, key: string): Promise<unknown> | unknown;
}

/**
 * Opens a client on `config` the way the suite does everywhere (test process and workers): through
 * `target.backendModule` when given, with the native coordination families hidden when `portable`.
 */
export async function openStore(
  config: CommunicationConfigInput,
  { backendModule, portable }: { backendModule?: string | undefined; portable?: boolean | undefined } = {},
): Promise<StateClient> {
  const backend = backendModule ? await createFromModule(backendModule, config) : undefined;
  const client = await openState({ config, env: {}, ...(backend && { backend }) });
  if (portable) usePortableCoordination(client);
  return client;
}

/**
 * Imports a backend module and creates a backend for `config` (not initialised). The module is
 * taken the way core takes a package's (`backendModule`, the default export, or a bare
 * `createBackend(config)`), registered with core under an alias of the specifier, and `config` is
 * checked by core with the module's own settings schema before `create` runs.
 */
export async function createFromModule(specifier: string, config: CommunicationConfigInput): Promise<CommunicationBackend> {
  const imported: unknown = await import(specifier);
  const module = moduleOf(imported, specifier, 'config');
  const alias = `contract-${createHash('sha256').update(specifier).digest('hex').slice(0, 12)}`;
  registerBackend(module, alias);
  const resolved = loadConfig({ config: { ...config, backend: alias }, env: {} });
  return module.create(resolved.settings as never, resolved);
}

/**
 * Fixtures not disposed yet. A runner that abandons a test at its deadline (`validate()`)
 * disposes these, so a hung test leaves no worker process or client behind.
 */
export const openFixtures = new Set<Fixture>();

/** One test's store: a config and an opener; everything opened is closed after the test. */
export class Fixture {
  readonly #clients: StateClient[] = [];
  readonly #children = new Set<ChildProcess>();

  constructor(
    readonly target: ContractTarget,
    readonly config: CommunicationConfigInput,
  ) {
    openFixtures.add(this);
  }

  /** Opens a client on this test's store; closed automatically. */
  async open(): Promise<StateClient> {
    const client = await openStore(this.config, this.target);
    this.#clients.push(client);
    return client;
  }

  /** Starts a worker process running `task` on this test's store. */
  spawn(task: string, args: Record<string, unknown> = {}): WorkerProcess {
    const child = spawn(process.execPath, [workerPath(), JSON.stringify({ config: this.config, task, args, portable: this.target.portable === true, backendModule: this.target.backendModule })], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, COMMUNICATION_BACKEND: '' },
    });
    this.#children.add(child);
    child.once('exit', () => this.#children.delete(child));
    return new WorkerProcess(child);
  }

  /** Runs a worker to completion and returns its messages; fails if it exits non-zero. */
  async run(task: string, args: Record<string, unknown> = {}): Promise<WorkerMessage[]> {
    const worker = this.spawn(task, args);
    const result = await worker.done;
    if (result.code !== 0) {
      throw new Error(`worker ${task} exited with ${result.code ?? result.signal}: ${result.stderr.trim().slice(-2000)}`);
    }
    return result.messages;
  }

  /** Closes clients, kills leftover workers, and lets the target clean up. */
  async dispose(): Promise<void> {
    openFixtures.delete(this);
    for (const child of this.#children) child.kill('SIGKILL');
    await Promise.all(this.#clients.map((c) => c.close()));
    await this.target.cleanup?.(this.config);
  }
}

/** A message a worker printed: one JSON object per stdout line. */
export type WorkerMessage = Record<string, unknown> & { type: string };

/** A running worker: its messages as they arrive and its exit. */
export class WorkerProcess {
  readonly messages: WorkerMessage[] = [];
  readonly done: Promise<{ code: number | null; signal: NodeJS.Signals | null; messages: WorkerMessage[]; stderr: string }>;
  #waiters: { type: string; resolve: (m: WorkerMessage) => void; reject: (e: Error) => void }[] = [];
  #stderr = '';

  constructor(readonly child: ChildProcess) {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      let message: WorkerMessage;
      try {
        message = JSON.parse(line) as WorkerMessage;
      } catch {
        return;
      }
      this.messages.push(message);
      this.#waiters = this.#waiters.filter((w) => (w.type === message.type ? (w.resolve(message), false) : true));
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      this.#stderr += chunk.toString();
    });
    this.done = new Promise((resolve) => {
      child.once('close', (code, signal) => {
        for (const w of this.#waiters) w.reject(new Error(`worker exited (${code ?? signal}) before "${w.type}": ${this.#stderr.slice(-2000)}`));
        this.#waiters = [];
        resolve({ code, signal, messages: this.messages, stderr: this.#stderr });
      });
    });
  }

  /** Resolves with the first message of `type` (already received or future). */
  waitFor(type: string): Promise<WorkerMessage> {
    const seen = this.messages.find((m) => m.type === type);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => this.#waiters.push({ type, resolve, reject }));
  }

  /** kill -9, and wait until the process is gone. */
  async kill(): Promise<void> {
    this.child.kill('SIGKILL');
    await this.done;
  }
}

/** The compiled worker script beside this file (tests that run from `src` use `dist`). */
export function workerPath(): string {
  const here = fileURLToPath(new URL('./worker.js', import.meta.url));
  if (existsSync(here)) return here;
  const built = here.replace(/[\\/]src[\\/]worker\.js$/, '/dist/worker.js');
  if (existsSync(built)) return built;
  throw new Error(`contract worker not found at ${here} or ${built}: build @agent-state/contract first`);
}

/**
 * Declares one test that gets a fresh fixture and disposes it afterwards, so every test opens
 * and closes its own clients and leaves nothing behind.
 */
export function fixtureTest(
  t: TestApi,
  target: ContractTarget,
  name: string,
  fn: (f: Fixture) => Promise<void>,
  timeoutMs = 30_000,
  kind?: TestKind,
): void {
  const body = async () => {
    const fixture = new Fixture(target, await target.config());
    try {
      await fn(fixture);
    } finally {
      await fixture.dispose();
    }
  };
  if (kind) testKinds.set(body, kind);
  t.it(name, body, timeoutMs);
}

/**
 * What a test needs beyond one process: `process` (several OS processes on one store) or
 * `crash` (a store that survives a kill -9 of a writer). `validate()` reads it to put such tests
 * in the `multi-process` and `crash safety` groups; other runners never see it.
 */
export type TestKind = 'process' | 'crash';
/** The kind of each declared test body (multi-process and crash tests only). */
export const testKinds = new WeakMap<() => unknown, TestKind>();

/**
 * Declares a test that needs several OS processes (and, with `crash`, a store that survives a
 * kill -9); skipped with the reason on a target that truthfully lacks it.
 */
export function processTest(
  t: TestApi,
  target: ContractTarget,
  name: string,
  fn: (f: Fixture) => Promise<void>,
  { timeoutMs = 120_000, crash = false }: { timeoutMs?: number; crash?: boolean } = {},
): void {
  const kind: TestKind = crash ? 'crash' : 'process';
  if (!target.multiProcess) skipTest(t, target, name, 'backend is single-process', kind);
  else if (crash && target.crashSafe === false) skipTest(t, target, name, 'backend is not crash-safe across processes', kind);
  else fixtureTest(t, target, name, fn, timeoutMs, kind);
}

/**
 * A test that needs `target.storageCount`: skipped with the reason without it, except under
 * `CI=true`, where a missing hook is a failure (CI never skips silently).
 */
export function storageTest(
  t: TestApi,
  target: ContractTarget,
  name: string,
  fn: (f: Fixture, count: () => Promise<number>) => Promise<void>,
  timeoutMs = 120_000,
): void {
  const storageCount = target.storageCount;
  if (!storageCount) {
    if (process.env.CI === 'true') {
      t.it(name, () => {
        throw new Error(`the ${target.name} contract target has no storageCount(config): required under CI=true`);
      });
    } else skipTest(t, target, name, 'the target gives no storageCount(config)');
    return;
  }
  fixtureTest(t, target, name, (f) => fn(f, () => storageCount.call(target, f.config)), timeoutMs);
}

/** Declares a skipped test whose title says why, and notes it for the summary. */
export function skipTest(t: TestApi, target: ContractTarget, name: string, reason: string, kind?: TestKind): void {
  skipped.push(`${target.name}: ${name} (${reason})`);
  const body = () => undefined;
  if (kind) testKinds.set(body, kind);
  t.it.skip(`${name} [skipped: ${reason}]`, body);
}

/** Every test skipped so far in this process, with the reason. */
export const skipped: string[] = [];
