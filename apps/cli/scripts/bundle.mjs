#!/usr/bin/env node
/**
 * Bundles the `agent-state` executable into dist/bin.js (over tsc's output) with esbuild, so a
 * run loads a handful of files instead of ~150 ES modules: Node's start-up is most of what a
 * shell call costs (see README, "Start-up cost"). Code splitting keeps each command, core and
 * every backend in its own chunk (dist/chunks/), loaded only when a command needs it.
 *
 * Bundled: our workspace packages (one copy of core for the CLI and the backends, so error
 * classes match), commander, yaml and zod. External: drivers and native modules (better-sqlite3,
 * ioredis, firebase-admin, fastify ...), resolved from node_modules at run time as before.
 */
import { chmodSync, cpSync, existsSync, rmSync, writeFileSync } from 'node:fs';
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

rmSync(join(dist, 'chunks'), { recursive: true, force: true });
const result = await build({
  entryPoints: { bin: join(root, 'src/bin.ts') },
  outdir: dist,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  chunkNames: 'chunks/[name]-[hash]',
  plugins: [lazyChildProcess, externals],
  minify: true,
  sourcemap: 'linked',
  legalComments: 'none',
  metafile: !!process.env.BUNDLE_META,
  logLevel: 'warning',
  // commander is CommonJS: its require() of Node built-ins needs a real require in an ES module.
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
});

// backend-redis reads its Lua scripts from `./lua/` next to its module; in the bundle that
// module is a chunk, so the scripts go next to the chunks.
const redis = join(root, '../../packages/backend-redis');
const lua = [join(redis, 'dist/lua'), join(redis, 'src/lua')].find((d) => existsSync(d));
if (lua) cpSync(lua, join(dist, 'chunks/lua'), { recursive: true });
// BUNDLE_META=1: what each chunk holds, for `esbuild --analyze`-style reading.
if (result.metafile) writeFileSync(join(dist, 'meta.json'), JSON.stringify(result.metafile));
chmodSync(join(dist, 'bin.js'), 0o755);
