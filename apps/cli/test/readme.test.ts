/**
 * Docs that run (issue 20 item 1): every fenced code block in the repository's READMEs whose
 * info string carries the word `run` (```js run, ```ts run, ```sh run) is extracted and run in a
 * fresh temp directory (no project.yml there, so the default file store in ./.agent-state),
 * with `@agent-state/*` resolvable and the bins on PATH. A block directly followed by a
 * ```text output block must print exactly that. `ts` blocks are compiled by esbuild (types
 * stripped, `await using` lowered) and then run on this Node. See apps/cli/README.md, "Docs that
 * run".
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { transform } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { spawnCollect } from './helpers.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** A runnable block: where it is, its language, its code and the output it must print. */
interface Snippet {
  file: string;
  line: number;
  lang: 'js' | 'ts' | 'sh';
  code: string;
  output?: string;
}

/** The READMEs: the root one and one level down in packages/, apps/ and examples/. */
function readmes(): string[] {
  const out = [join(root, 'README.md')];
  for (const group of ['packages', 'apps', 'examples']) {
    for (const name of readdirSync(join(root, group))) {
      const file = join(root, group, name, 'README.md');
      if (existsSync(file)) out.push(file);
    }
  }
  return out;
}

/** The fenced blocks of a Markdown text marked `run`, each with the `output` block after it. */
export function extract(file: string, text: string): Snippet[] {
  const blocks: { info: string; code: string; line: number; end: number }[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^(`{3,})\s*(.*)$/.exec(lines[i]!);
    if (!open) continue;
    const fence = open[1]!;
    let j = i + 1;
    while (j < lines.length && !lines[j]!.startsWith(fence)) j++;
    blocks.push({ info: open[2]!.trim(), code: lines.slice(i + 1, j).join('\n'), line: i + 1, end: j });
    i = j;
  }
  const snippets: Snippet[] = [];
  blocks.forEach((block, k) => {
    const words = block.info.split(/\s+/);
    if (!words.includes('run')) return;
    const lang = words[0] === 'javascript' || words[0] === 'mjs' ? 'js' : words[0] === 'typescript' ? 'ts' : words[0] === 'bash' ? 'sh' : words[0];
    if (lang !== 'js' && lang !== 'ts' && lang !== 'sh') throw new Error(`${file}:${block.line}: a run block must be js, ts or sh, not ${JSON.stringify(words[0])}`);
    const next = blocks[k + 1];
    // The output block belongs to this one only when nothing but blank lines comes between.
    const between = next ? text.split('\n').slice(block.end + 1, next.line - 1).join('\n').trim() : '';
    const output = next && next.info.split(/\s+/).includes('output') && between === '' ? `${next.code}\n` : undefined;
    snippets.push({ file, line: block.line, lang, code: block.code, ...(output !== undefined && { output }) });
  });
  return snippets;
}

/** Runs one snippet in a fresh directory; its result. */
async function runSnippet(snippet: Snippet) {
  const dir = mkdtempSync(join(tmpdir(), 'agent-state-readme-'));
  try {
    symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
    const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${join(root, 'node_modules/.bin')}:${process.env['PATH'] ?? ''}`, NO_COLOR: '1' };
    delete env['COMMUNICATION_BACKEND'];
    if (snippet.lang === 'sh') {
      // The options go inside the script, not on bash's command line: a bash whose stdin is a
      // socket (as under some CI runners) reads /etc/bash.bashrc first, which fails under -u.
      return await spawnCollect('bash', ['-c', `set -euo pipefail\n${snippet.code}`], dir, env);
    }
    const js = snippet.lang === 'ts' ? (await transform(snippet.code, { loader: 'ts', format: 'esm', target: 'node20' })).code : snippet.code;
    writeFileSync(join(dir, 'snippet.mjs'), js);
    return await spawnCollect(process.execPath, ['snippet.mjs'], dir, env);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('README code blocks marked run', () => {
  const snippets = readmes().flatMap((file) => extract(file, readFileSync(file, 'utf8')));

  it('the root README has its ten lines in JavaScript and in TypeScript, both marked run', () => {
    const here = snippets.filter((s) => s.file === join(root, 'README.md')).map((s) => s.lang);
    expect(here).toEqual(expect.arrayContaining(['js', 'ts']));
  });

  for (const snippet of snippets) {
    it(`${relative(root, snippet.file)}:${snippet.line} (${snippet.lang}) runs${snippet.output ? ' and prints what the README shows' : ''}`, async () => {
      const result = await runSnippet(snippet);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      if (snippet.output !== undefined) expect(result.stdout).toBe(snippet.output);
    }, 60_000);
  }
});

describe('the extractor', () => {
  it('takes only blocks marked run, in js, ts or sh, with an adjacent output block', () => {
    const md = ['```js run', 'console.log(1)', '```', '', '```text output', '1', '```', '```js', 'skipped()', '```', '```sh run', 'echo hi', '```', 'prose', '```text output', 'not adjacent', '```'].join('\n');
    expect(extract('x.md', md)).toEqual([
      { file: 'x.md', line: 1, lang: 'js', code: 'console.log(1)', output: '1\n' },
      { file: 'x.md', line: 11, lang: 'sh', code: 'echo hi' },
    ]);
    expect(() => extract('x.md', '```python run\nprint(1)\n```')).toThrow(/js, ts or sh/);
  });
});
