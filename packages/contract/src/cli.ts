/**
 * `agent-state-contract --backend <module> [--config <file or inline>] [--only <group>] [--json]`:
 * runs the contract suite against a backend and prints a conformance table; exits 1 when a
 * required group fails, 2 on bad usage.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { InvalidValueError, loadConfig, type Settings } from '@agent-state/core';
import { createFromModule } from './harness.js';
import { FIRST_PARTY, firstPartyTarget, moduleTarget, type BuiltTarget, type FirstParty } from './targets.js';
import { formatReport, GROUP_NAMES, validate } from './validate.js';

export const HELP = `Usage: agent-state-contract --backend <module> [options]

Runs the agent-state contract suite against a backend and prints a conformance table
(group, required/optional, passed, failed, skipped). Exits 1 when a required group fails.

  --backend <module>   memory, file, sqlite, redis, postgres, firebase (first-party, through
                       core's loader), or a backend module: a path (./my-backend.js) or a
                       package name, exporting a backend module { name, settings, create }
                       (backendModule or default) or createBackend(config)
  --config <file|text> YAML or JSON: a communication block ({ settings: { … } }) or a project.yml
                       with one; its settings go into every test's store (redis_url,
                       postgres_url, emulator_host, …); \${VAR} reads the environment
  --only <group>       run only this group (repeat or comma-separate); groups:
                       ${GROUP_NAMES.join(', ')}
  --timeout <ms>       deadline of every test (default: each test's own)
  --json               print the report as JSON instead of the table
  --strict             also exit 1 when an optional group that ran failed
  --quiet              no per-test progress on stderr
  -h, --help           this text

Fresh store per test: a temp directory (file, sqlite), a random namespace (redis, firebase),
a random namespace in a run schema that is dropped at the end (postgres). Firebase needs an
emulator: --config '{"settings":{"emulator_host":"127.0.0.1:9000"}}'.
`;

class UsageError extends Error {}

/**
 * Reads `--config`: a file path or inline YAML/JSON; returns its settings with `${VAR}` filled in.
 * For a first-party backend (`check`) they are checked now by core and the installed backends'
 * settings schemas (each target adds what it needs, e.g. firebase's project id); a backend module's
 * settings are checked by its own schema when it is loaded (still before any I/O).
 */
export function readSettings(value: string | undefined, env: NodeJS.ProcessEnv = process.env, check = true): Settings {
  if (value === undefined) return {};
  const text = existsSync(value) ? readFileSync(value, 'utf8') : value;
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (error) {
    throw new InvalidValueError('--config', value, `neither a file nor YAML/JSON: ${(error as Error).message}`);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new InvalidValueError('--config', value, 'expected a mapping with settings');
  const block = ((doc as Record<string, unknown>).communication ?? doc) as Record<string, unknown>;
  const settings = (block.settings ?? {}) as Record<string, unknown>;
  if (typeof settings !== 'object' || Array.isArray(settings)) throw new InvalidValueError('--config settings', settings, 'expected a mapping');
  const filled = Object.fromEntries(
    Object.entries(settings).map(([k, v]) => [
      k,
      typeof v === 'string'
        ? v.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
            const found = env[name];
            if (found === undefined) throw new InvalidValueError(`--config settings.${k}`, v, `\${${name}} is not set in the environment`);
            return found;
          })
        : v,
    ]),
  );
  // Validated now, before any I/O, so a typo names the field.
  if (check) loadConfig({ config: { settings: filled as Settings }, env: {} });
  return filled as Settings;
}

/** Resolves a `--backend` value that is not a first-party name to an importable specifier. */
export function resolveModule(value: string, cwd = process.cwd()): string {
  if (value.startsWith('.') || isAbsolute(value) || /\.[cm]?js$/.test(value)) {
    const path = resolve(cwd, value);
    if (!existsSync(path)) throw new InvalidValueError('--backend', value, `no such file: ${path}`);
    return pathToFileURL(path).href;
  }
  try {
    return pathToFileURL(createRequire(join(cwd, 'noop.js')).resolve(value)).href;
  } catch {
    throw new InvalidValueError('--backend', value, `not a first-party backend (${FIRST_PARTY.join(', ')}) and no package of that name is installed here`);
  }
}

function firstPartyName(value: string): FirstParty | undefined {
  const name = value.startsWith('@agent-state/backend-') ? value.slice('@agent-state/backend-'.length) : value;
  return (FIRST_PARTY as readonly string[]).includes(name) ? (name as FirstParty) : undefined;
}

/** The CLI; returns the exit code. */
export async function main(argv: string[], out = process.stdout, err = process.stderr): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        backend: { type: 'string' },
        config: { type: 'string' },
        only: { type: 'string', multiple: true },
        timeout: { type: 'string' },
        json: { type: 'boolean' },
        strict: { type: 'boolean' },
        quiet: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (error) {
    err.write(`agent-state-contract: ${(error as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (values.help) {
    out.write(HELP);
    return 0;
  }
  let built: BuiltTarget | undefined;
  try {
    if (!values.backend) throw new UsageError('--backend is required');
    const only = (values.only ?? []).flatMap((o) => o.split(',')).map((o) => o.trim()).filter(Boolean);
    for (const o of only) {
      if (!GROUP_NAMES.includes(o) && !GROUP_NAMES.includes(o.replace(/ \(native\)$/, ''))) {
        throw new UsageError(`--only ${JSON.stringify(o)}: no such group (groups: ${GROUP_NAMES.join(', ')})`);
      }
    }
    let testTimeoutMs: number | undefined;
    if (values.timeout !== undefined) {
      testTimeoutMs = Number(values.timeout);
      if (!Number.isInteger(testTimeoutMs) || testTimeoutMs <= 0) throw new UsageError(`--timeout ${values.timeout}: expected a positive whole number of ms`);
    }
    const firstParty = firstPartyName(values.backend);
    const settings = readSettings(values.config, process.env, firstParty !== undefined);
    if (firstParty) {
      built = await firstPartyTarget(firstParty, { settings });
    } else {
      const specifier = resolveModule(values.backend);
      const probe = await createFromModule(specifier, { settings });
      const multiProcess = probe.capabilities.multiProcess;
      await probe.close().catch(() => undefined);
      built = await moduleTarget(specifier, multiProcess, { settings });
    }
    const target = built.target;
    const progress = !values.quiet && !values.json;
    const report = await validate(target, {
      ...(only.length > 0 && { only }),
      ...(testTimeoutMs !== undefined && { testTimeoutMs }),
      ...(progress && {
        onTest: (e) => {
          if (e.status === 'failed') err.write(`  ✗ ${e.group} › ${e.test}\n`);
          else if (e.status === 'passed') err.write(`  ✓ ${e.group} › ${e.test} (${e.ms} ms)\n`);
        },
      }),
    });
    out.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
    const optionalFailed = report.groups.some((g) => !g.required && g.failed > 0);
    return report.ok && !(values.strict && optionalFailed) ? 0 : 1;
  } catch (error) {
    if (error instanceof UsageError) {
      err.write(`agent-state-contract: ${error.message}\n\n${HELP}`);
      return 2;
    }
    const code = (error as { code?: unknown }).code;
    err.write(`agent-state-contract: ${typeof code === 'string' ? `${code}: ` : ''}${(error as Error).message ?? String(error)}\n`);
    return 2;
  } finally {
    await built?.teardown().catch((e: unknown) => err.write(`agent-state-contract: teardown: ${(e as Error).message}\n`));
  }
}


