#!/usr/bin/env node
/**
 * Bundles the `agent-state` executable (over tsc's output) with esbuild, so a run loads a
 * handful of files instead of ~150 ES modules: Node's start-up is most of what a shell call
 * costs (see README, "Cost").
 *
 * Two bundles:
 * - dist/full.js (src/bin.ts, the whole program), split: each command, core and every backend in
 *   its own chunk (dist/chunks/), loaded only when a command needs it.
 * - dist/bin.js (src/get-bin.ts), the executable, one file without chunks: the get fast path,
 *   core and every backend whose package loads its driver only when it connects (a dynamic
 *   `import()`), so `agent-state get` loads one module of ours (each module costs Node a resolve,
 *   a realpath and a compile: ~30 ms of CPU over the 11 chunks a split `get` loaded) and then the
 *   configured backend's driver. Anything else it hands to dist/full.js. A backend whose package
 *   imports its driver at load time is left out (a stub): the driver would be a static import of
 *   the one file, loaded on every call, a `get` on files too. Which backends are in is decided
 *   from a first build's metafile and written into the file (src/bin-backends.ts).
 * Each bundle has its own copy of core, and a process runs code of one of them only (dist/bin.js
 * reads which backend project.yml names, then either runs the get or imports dist/full.js).
 *
 * Bundled: our workspace packages (one copy of core for the CLI and the backends, so error
 * classes match), commander, yaml and zod. External: drivers and native modules (better-sqlite3,
 * ioredis, firebase-admin, fastify ...), resolved from node_modules at run time as before, except
 * that dist/bin.js loads ioredis and pg from one file each (dist/drivers/, see PREBUNDLED).
 */
import { chmodSync, cpSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire, isBuiltin } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const dist = join(root, 'dist');
const BUNDLED = /^(@agent-state\/|commander$|yaml$|zod($|\/))/;

/** Workspace packages that are not built (or not installed) stay external: the bundle still builds. */
const externals = {
  name: 'externals',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, async (args) => {
      if (args.path.startsWith('node:')) return { external: true };
      if (!BUNDLED.test(args.path)) return { external: true };
      if (args.pluginData === 'probe') return undefined;
      const probe = await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, pluginData: 'probe' });
      return probe.errors.length > 0 || !existsSync(probe.path) ? { external: true } : undefined;
    });
  },
};

/**
 * commander requires node:child_process at load time for executable subcommands, which we do not
 * use; loading it (and node:net behind it) costs ~8 ms per run. Commander gets a proxy that loads
 * it on first use instead.
 */
const lazyChildProcess = {
  name: 'lazy-child-process',
  setup(b) {
    b.onResolve({ filter: /^(node:)?child_process$/ }, (args) =>
      /[\\/]commander[\\/]/.test(args.importer) ? { path: 'child_process', namespace: 'lazy' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'lazy' }, () => ({
      contents: "let m; module.exports = new Proxy({}, { get: (_, k) => (m ??= require('node:child_process'))[k] });",
      loader: 'js',
    }));
  },
};

/**
 * Node built-ins that only a backend other than files imports, each for a few functions used
 * after it has opened (SQLite's crc32 from node:zlib): in dist/bin.js they are functions that
 * load the built-in on their first call, so a `get` on files does not load it (~1 ms).
 */
const LAZY_BUILTINS = ['node:zlib'];
const lazyBuiltins = {
  name: 'lazy-builtins',
  setup(b) {
    b.onResolve({ filter: /^node:/ }, (args) => {
      if (!LAZY_BUILTINS.includes(args.path)) return undefined;
      // The wrapper's own require() is the real built-in.
      return args.namespace === 'lazy-builtin' ? { path: args.path, external: true } : { path: args.path, namespace: 'lazy-builtin' };
    });
    b.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, (args) => {
      const names = Object.entries(createRequire(import.meta.url)(args.path)).filter(([k, v]) => typeof v === 'function' && /^[a-z][\w$]*$/.test(k)).map(([k]) => k);
      const load = `let m; const load = () => (m ??= require(${JSON.stringify(args.path)}));`;
      return { contents: `${load}\n${names.map((k) => `export const ${k} = (...a) => load().${k}(...a);`).join('\n')}`, loader: 'js' };
    });
  },
};

/** The first-party backends dist/bin.js may carry besides files (context.ts imports each by name). */
const CANDIDATES = ['sqlite', 'redis', 'postgres', 'firebase'];

/**
 * In dist/bin.js, the backends in `carried` are bundled and the others are stubs (get-bin.ts runs
 * dist/full.js for their projects); src/bin-backends.ts becomes the list get-bin.ts checks.
 */
const binBackends = (carried) => ({
  name: 'bin-backends',
  setup(b) {
    b.onResolve({ filter: /^@agent-state\/backend-[a-z]+$/ }, (args) =>
      carried.includes(args.path.slice('@agent-state/backend-'.length)) ? undefined : { path: args.path, namespace: 'not-here' },
    );
    b.onLoad({ filter: /.*/, namespace: 'not-here' }, (args) => ({
      contents: `throw new Error(${JSON.stringify(`${args.path} is not in dist/bin.js (get-bin.ts runs dist/full.js for it)`)});`,
      loader: 'js',
    }));
    b.onLoad({ filter: /[\\/]src[\\/]bin-backends\.ts$/ }, () => ({ contents: `export const BIN_BACKENDS = ${JSON.stringify(carried)};`, loader: 'js' }));
  },
});

/** Static imports of anything but a Node built-in, by the backend package (`sqlite`) whose file makes them. */
function staticImportsByBackend(metafile) {
  const found = new Map();
  for (const [input, { imports }] of Object.entries(metafile.inputs)) {
    const backend = /packages[\\/]backend-([a-z]+)[\\/]/.exec(input)?.[1];
    if (backend === undefined) continue;
    for (const i of imports) {
      if (!i.external || isBuiltin(i.path) || (i.kind !== 'import-statement' && i.kind !== 'require-call')) continue;
      found.set(backend, [...(found.get(backend) ?? []), `${i.path} (${input})`]);
    }
  }
  return found;
}

const common = {
  outdir: dist,
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  minify: true,
  sourcemap: 'linked',
  legalComments: 'none',
  metafile: !!process.env.BUNDLE_META,
  logLevel: 'warning',
  // commander is CommonJS: its require() of Node built-ins needs a real require in an ES module.
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
};

rmSync(join(dist, 'chunks'), { recursive: true, force: true });
const result = await build({
  ...common,
  entryPoints: { full: join(root, 'src/bin.ts') },
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  plugins: [lazyChildProcess, externals],
});
// dist/bin.js: a first build with every candidate says which packages still import a driver at load time.
const binOptions = (carried, drivers = []) => ({
  ...common,
  entryPoints: { bin: join(root, 'src/get-bin.ts') },
  splitting: false,
  metafile: true,
  plugins: [binBackends(['file', ...carried]), driverFiles(drivers), lazyBuiltins, externals],
});

/**
 * Pure-JavaScript drivers dist/bin.js loads from one file of their own (dist/drivers/NAME.mjs),
 * still by the backend's dynamic import, instead of from node_modules: ioredis is 55 CommonJS
 * modules and pg 32, and Node pays a resolve, a read and a wrapper compile for each on every
 * call. better-sqlite3 is a native addon found through `bindings` and stays in node_modules.
 */
const PREBUNDLED = { redis: 'ioredis', postgres: 'pg' };

/** In dist/bin.js, `import(driver)` of a pre-bundled driver is `import('./drivers/driver.mjs')`. */
const driverFiles = (drivers) => ({
  name: 'driver-files',
  setup(b) {
    b.onResolve({ filter: /^[a-z]/ }, (args) => (drivers.includes(args.path) ? { path: `./drivers/${args.path}.mjs`, external: true } : undefined));
  },
});

/**
 * dist/drivers/NAME.mjs: the driver and its dependencies in one ES module with the same exports
 * Node gives an `import()` of the CommonJS package (its default and its named exports), resolved
 * from the backend package that depends on it.
 */
async function bundleDriver(name, backend) {
  const from = createRequire(join(root, `../../packages/backend-${backend}/package.json`));
  const entry = from.resolve(name);
  const names = Object.keys(from(name)).filter((k) => k !== 'default' && /^[A-Za-z_$][\w$]*$/.test(k));
  await build({
    ...common,
    outdir: undefined,
    stdin: {
      contents: `import driver from ${JSON.stringify(entry)};\nexport default driver;\nexport const { ${names.join(', ')} } = driver;\n`,
      resolveDir: dirname(entry),
      loader: 'js',
    },
    outfile: join(dist, `drivers/${name}.mjs`),
    // pg asks whether it runs on Cloudflare Workers by `navigator.userAgent` and, where Node has
    // no `navigator` (20; 21+ has one), by building a `Response`, which loads undici (10-30 ms
    // of a `get`). This file runs on Node only: it sees the answer Node 21+ gives.
    ...(name === 'pg' && { define: { navigator: '{"userAgent":"Node.js"}' } }),
    // pg requires its optional native binding only when asked for (`pg.native`).
    plugins: [{ name: 'optional', setup: (ob) => ob.onResolve({ filter: /^pg-native$/ }, () => ({ external: true })) }],
  });
}
const probe = await build({ ...binOptions(CANDIDATES), write: false, sourcemap: false });
const loadsDriver = staticImportsByBackend(probe.metafile);
const carried = CANDIDATES.filter((name) => !loadsDriver.has(name));
for (const [name, imports] of loadsDriver) {
  if (name !== 'file') console.log(`dist/bin.js: ${name} stays in dist/full.js (static import of ${imports.join(', ')})`);
}
rmSync(join(dist, 'drivers'), { recursive: true, force: true });
const drivers = carried.filter((name) => name in PREBUNDLED).map((name) => PREBUNDLED[name]);
for (const name of carried.filter((b) => b in PREBUNDLED)) await bundleDriver(PREBUNDLED[name], name);
const single = await build(binOptions(carried, drivers));

// backend-redis reads its Lua scripts from `./lua/` next to its module; in the bundle that
// module is a chunk, so the scripts go next to the chunks.
const redis = join(root, '../../packages/backend-redis');
const lua = [join(redis, 'dist/lua'), join(redis, 'src/lua')].find((d) => existsSync(d));
if (lua) cpSync(lua, join(dist, 'chunks/lua'), { recursive: true });
// ... and next to dist/bin.js when that carries the Redis backend.
rmSync(join(dist, 'lua'), { recursive: true, force: true });
if (lua && carried.includes('redis')) cpSync(lua, join(dist, 'lua'), { recursive: true });
// BUNDLE_META=1: what each chunk holds, for `esbuild --analyze`-style reading.
if (result.metafile) writeFileSync(join(dist, 'meta.json'), JSON.stringify(result.metafile));
if (process.env.BUNDLE_META) writeFileSync(join(dist, 'meta-bin.json'), JSON.stringify(single.metafile));
// dist/bin.js must import nothing at start but Node's built-ins (a backend's driver would load on every call).
const [, binOut] = Object.entries(single.metafile.outputs).find(([path]) => path.endsWith('bin.js'));
const startImports = binOut.imports.filter((i) => i.kind === 'import-statement' && !i.path.startsWith('node:')).map((i) => i.path);
if (startImports.length > 0) throw new Error(`dist/bin.js imports ${startImports.join(', ')} at start: only Node built-ins may be static imports of the one-file bundle`);
chmodSync(join(dist, 'bin.js'), 0o755);
