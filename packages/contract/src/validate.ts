/**
 * `validate(target)`: runs the contract suite with a tiny built-in runner (sequential, one
 * deadline per test, no test framework needed) and returns a report a backend author can read.
 */
import { detectCapabilities, type DetectedCapabilities } from './capabilities.js';
import { openFixtures, testKinds, type ContractTarget, type TestApi, type TestKind } from './harness.js';
import { GROUPS, type GroupSpec } from './catalog.js';

/** One failed test: its title (below the group) and the error message. */
export interface TestFailure {
  test: string;
  message: string;
}

/** One row of the report. */
export interface GroupReport {
  /** Group id (`round-trip`, `queues (native)`, `multi-process`, …), what `--only` takes. */
  name: string;
  /** A required group that fails makes the report not ok; an optional one never does. */
  required: boolean;
  /** Why the group is required or optional here, in a few words. */
  why: string;
  passed: number;
  failed: number;
  skipped: number;
  failures: TestFailure[];
  /** Skipped tests and the reason each one was skipped. */
  skips: { test: string; reason: string }[];
}

/** What {@link validate} returns. */
export interface ConformanceReport {
  /** The target's name. */
  backend: string;
  capabilities: DetectedCapabilities;
  groups: GroupReport[];
  /** Every required group passed (optional groups may fail or be skipped). */
  ok: boolean;
  /** Wall time of the run in ms. */
  durationMs: number;
}

/** A test as it finished, for progress output. */
export interface TestEvent {
  group: string;
  test: string;
  status: 'passed' | 'failed' | 'skipped';
  ms: number;
  message?: string;
}

/** Options of {@link validate}. */
export interface ValidateOptions {
  /** Run only these groups (ids as in the report, or a base id such as `queues` for both of its runs). */
  only?: readonly string[];
  /** Deadline of every test in ms; default the test's own (30 s for most, 120 s for multi-process ones). */
  testTimeoutMs?: number;
  /** Called after each test. */
  onTest?: (event: TestEvent) => void;
  /** Capabilities already detected (skips the detection step). */
  capabilities?: DetectedCapabilities;
}

/** The ids {@link validate} knows, for `--only`: the suite's groups and the two derived ones. */
export const GROUP_NAMES: readonly string[] = [...GROUPS.map((g) => g.id), 'multi-process', 'crash-safety', 'native coordination'];

interface Declared {
  /** Report group this test lands in. */
  group: string;
  /** Source group id (without ` (native)`). */
  source: string;
  /** ` (native)` on the native run of a coordination group. */
  suffix: string;
  title: string;
  fn: () => unknown;
  timeoutMs: number | undefined;
  skip: boolean;
  kind: TestKind | undefined;
}

const SKIP_REASON = / \[skipped: (.*)\]$/;

/** Declares the groups against a collecting runner: nothing runs yet. */
function declare(groups: readonly GroupSpec[], target: ContractTarget, suffixOf: (g: GroupSpec) => string): Declared[] {
  const out: Declared[] = [];
  for (const spec of groups) {
    const suffix = suffixOf(spec);
    const path: string[] = [];
    const push = (name: string, fn: () => unknown, timeoutMs: number | undefined, skip: boolean) => {
      const kind = testKinds.get(fn as () => unknown);
      const inner = path.slice(1);
      const group = kind === 'crash' ? 'crash-safety' : kind === 'process' ? 'multi-process' : `${spec.id}${suffix}`;
      const prefix = kind ? [`${spec.id}${suffix}`, ...inner] : inner;
      out.push({ group, source: spec.id, suffix, title: [...prefix, name].join(' › '), fn, timeoutMs, skip, kind });
    };
    const it = Object.assign(
      (name: string, fn: () => unknown, timeoutMs?: number) => push(name, fn, timeoutMs, false),
      { skip: (name: string, fn: () => unknown) => push(name, fn, undefined, true) },
    );
    const api: TestApi = {
      describe(name, fn) {
        path.push(name);
        try {
          fn();
        } finally {
          path.pop();
        }
      },
      it,
    };
    spec.run(api, target);
  }
  return out;
}

/** Runs `fn` with a deadline; an unhandled rejection while it runs fails it too. */
async function runOne(fn: () => unknown, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  let onUnhandled: ((reason: unknown) => void) | undefined;
  try {
    await Promise.race([
      Promise.resolve().then(fn),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
        onUnhandled = (reason) => reject(reason instanceof Error ? reason : new Error(`unhandled rejection: ${String(reason)}`));
        process.on('unhandledRejection', onUnhandled);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    if (onUnhandled) process.off('unhandledRejection', onUnhandled);
    // A test abandoned at its deadline still holds its fixtures: kill its workers, close its
    // clients, remove its store (bounded too, so a hung close cannot stall the run).
    if (openFixtures.size > 0) {
      const leftovers = [...openFixtures];
      openFixtures.clear();
      let bound: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled(leftovers.map((f) => f.dispose())),
        new Promise((resolve) => (bound = setTimeout(resolve, DISPOSE_BOUND_MS))),
      ]);
      clearTimeout(bound);
    }
  }
}

/** How long the runner waits for an abandoned test's fixtures to be disposed. */
const DISPOSE_BOUND_MS = 15_000;

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message.split('\n').slice(0, 12).join('\n');
  return String(error);
}

/** Which report groups are required for these capabilities, and why. */
function requirement(name: string, caps: DetectedCapabilities): { required: boolean; why: string } {
  switch (name) {
    case 'multi-process':
      return caps.multiProcess ? { required: true, why: 'the target is multi-process' } : { required: false, why: 'the target is single-process' };
    case 'crash-safety':
      return caps.crashSafe ? { required: true, why: 'the target is crash-safe' } : { required: false, why: 'the target is not crash-safe' };
    case 'retention':
    case 'retention (native)':
      return caps.storageCount ? { required: true, why: 'the target gives storageCount' } : { required: false, why: 'no storageCount hook' };
    case 'damaged-data':
      return caps.damage ? { required: true, why: 'the target gives a damage hook' } : { required: false, why: 'no damage hook' };
    case 'unavailable':
      return caps.unavailable ? { required: true, why: 'the target gives unavailableConfig' } : { required: false, why: 'no unavailableConfig' };
    case 'native coordination':
      return { required: false, why: 'no native queues, logs or notify' };
    default:
      return name.endsWith(' (native)')
        ? { required: true, why: 'declared native families' }
        : { required: true, why: 'a promise of the contract' };
  }
}

/**
 * Runs the contract suite against `target` and reports per group. Groups: every promise of the
 * contract (required); `multi-process` and `crash-safety` (the tests that need several processes
 * or a kill -9, required when the target says it can); `retention` and `unavailable` (required
 * when the target gives their hook); and when the backend declares native queues, logs or notify,
 * the coordination groups twice: as clients see them (`queues (native)`, …) and on core's
 * portable path (`queues`, …), both required.
 *
 * @throws nothing for a failing backend (failures are in the report); rethrows only what the
 *   capability detection throws (a backend module that does not load, a bad config).
 */
export async function validate(target: ContractTarget, options: ValidateOptions = {}): Promise<ConformanceReport> {
  const started = Date.now();
  const capabilities = options.capabilities ?? (await detectCapabilities(target));
  const native = capabilities.queues || capabilities.logs || capabilities.notify;
  const declared = native
    ? [
        // As clients see the backend: its coordination groups run on the native families.
        ...declare(GROUPS, { ...target, portable: false }, (g) => (g.coordination ? ' (native)' : '')),
        // And on core's portable path, which every backend must keep too.
        ...declare(GROUPS.filter((g) => g.coordination), { ...target, name: `${target.name} (portable coordination)`, portable: true }, () => ''),
      ]
    : declare(GROUPS, target, () => '');

  const only = options.only?.length ? new Set(options.only) : undefined;
  const selected = only ? declared.filter((d) => only.has(d.group) || only.has(d.source) || only.has(`${d.source}${d.suffix}`)) : declared;

  const groups = new Map<string, GroupReport>();
  const groupOf = (name: string): GroupReport => {
    let g = groups.get(name);
    if (!g) {
      g = { name, ...requirement(name, capabilities), passed: 0, failed: 0, skipped: 0, failures: [], skips: [] };
      groups.set(name, g);
    }
    return g;
  };
  // Rows in a stable order: the suite's groups, then the derived ones.
  for (const d of selected) groupOf(d.group);
  if (!native && (!only || only.has('native coordination'))) {
    const g = groupOf('native coordination');
    g.skipped = 1;
    g.skips.push({ test: 'native queues, logs and notify', reason: 'the backend declares none (core runs its portable families)' });
  }

  for (const d of selected) {
    const g = groupOf(d.group);
    const t0 = Date.now();
    if (d.skip) {
      const reason = SKIP_REASON.exec(d.title)?.[1] ?? 'skipped';
      const title = d.title.replace(SKIP_REASON, '');
      g.skipped++;
      g.skips.push({ test: title, reason });
      options.onTest?.({ group: g.name, test: title, status: 'skipped', ms: 0, message: reason });
      continue;
    }
    try {
      await runOne(d.fn, options.testTimeoutMs ?? d.timeoutMs ?? 60_000);
      g.passed++;
      options.onTest?.({ group: g.name, test: d.title, status: 'passed', ms: Date.now() - t0 });
    } catch (error) {
      g.failed++;
      g.failures.push({ test: d.title, message: messageOf(error) });
      options.onTest?.({ group: g.name, test: d.title, status: 'failed', ms: Date.now() - t0, message: messageOf(error) });
    }
  }

  const derived = ['multi-process', 'crash-safety', 'native coordination'];
  const rows = [...groups.values()].sort((a, b) => derived.indexOf(a.name) - derived.indexOf(b.name));
  return {
    backend: target.name,
    capabilities,
    groups: rows,
    ok: rows.every((g) => !g.required || g.failed === 0),
    durationMs: Date.now() - started,
  };
}

/** The report as a fixed-width table: group, required/optional, passed, failed, skipped, then each failure. */
export function formatReport(report: ConformanceReport): string {
  const header = ['group', 'kind', 'passed', 'failed', 'skipped', 'result'];
  const body = report.groups.map((g) => [
    g.name,
    g.required ? 'required' : 'optional',
    String(g.passed),
    String(g.failed),
    String(g.skipped),
    g.failed > 0 ? (g.required ? 'FAIL' : 'fail (optional)') : g.passed === 0 ? 'skipped' : 'ok',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i >= 2 && i <= 4 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  const caps = report.capabilities;
  const on = Object.entries(caps).filter(([k, v]) => k !== 'backend' && v === true).map(([k]) => k);
  const out = [
    `agent-state contract: ${report.backend} (backend ${caps.backend}; capabilities: ${on.join(', ') || 'none'})`,
    '',
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...body.map(line),
    '',
  ];
  for (const g of report.groups) {
    for (const f of g.failures) out.push(`FAILED ${g.name} › ${f.test}`, ...f.message.split('\n').map((l) => `    ${l}`));
  }
  const failedRequired = report.groups.filter((g) => g.required && g.failed > 0).map((g) => g.name);
  out.push(
    report.ok
      ? `conformant: every required group passed (${(report.durationMs / 1000).toFixed(1)} s)`
      : `NOT conformant: required group(s) failed: ${failedRequired.join(', ')}`,
  );
  return `${out.join('\n')}\n`;
}
