/**
 * Cases that live outside this package (the server's HTTP and MCP cases, a metrics-cost case):
 * a module that exports `workloads` and/or `subjects` (per backend), loaded with `--extra`.
 * Worker processes load the same modules, so extra workloads may be multi-process too.
 */
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BenchBackend, SubjectSpec } from './subjects/types.js';
import type { Workload } from './workloads/types.js';

/** What an extra module exports (named, or as its default export). */
export interface BenchExtras {
  workloads?: readonly Workload[];
  subjects?: Partial<Record<BenchBackend, readonly SubjectSpec[]>>;
}

/** A module path (relative to `cwd`) or a package name, as `import()` takes it. */
function specifierOf(module: string, cwd: string): string {
  if (module.startsWith('.') || isAbsolute(module)) return pathToFileURL(resolve(cwd, module)).href;
  return module;
}

/** Loads and merges the extra modules; an absent or malformed module is an error naming it. */
export async function loadExtras(modules: readonly string[], cwd: string = process.cwd()): Promise<Required<BenchExtras>> {
  const workloads: Workload[] = [];
  const subjects: Partial<Record<BenchBackend, SubjectSpec[]>> = {};
  for (const module of modules) {
    const loaded = (await import(specifierOf(module, cwd))) as BenchExtras & { default?: BenchExtras };
    const extras = loaded.workloads || loaded.subjects ? loaded : (loaded.default ?? {});
    if (!extras.workloads && !extras.subjects) throw new Error(`--extra ${module}: exports neither workloads nor subjects`);
    workloads.push(...(extras.workloads ?? []));
    for (const [backend, specs] of Object.entries(extras.subjects ?? {}) as [BenchBackend, readonly SubjectSpec[]][]) {
      (subjects[backend] ??= []).push(...specs);
    }
  }
  return { workloads, subjects };
}
