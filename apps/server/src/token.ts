/**
 * The bearer token: `AGENT_STATE_TOKEN`, else a token file (default `.agent-state/serve.token`
 * next to project.yml, or in the working directory), created on first start with 32 random
 * bytes (base64url), mode 0600. Compared in constant time.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, mkdirSync, openSync, readFileSync, writeSync, closeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { InvalidConfigError } from '@agent-state/core';

/** Where the token file goes when `--token-file` is not given. */
export function defaultTokenFile(configSource: string, cwd: string): string {
  const base = configSource.endsWith('.yml') || configSource.endsWith('.yaml') ? dirname(resolve(cwd, configSource)) : resolve(cwd);
  return join(base, '.agent-state', 'serve.token');
}

/** The token from the environment, or read from (or created in) `file`. */
export function resolveToken(env: NodeJS.ProcessEnv, file: string): { token: string; source: string } {
  const fromEnv = env['AGENT_STATE_TOKEN'];
  if (fromEnv !== undefined && fromEnv !== '') {
    if (fromEnv.length < 16) throw new InvalidConfigError('AGENT_STATE_TOKEN', '', 'expected at least 16 characters');
    return { token: fromEnv, source: 'AGENT_STATE_TOKEN' };
  }
  try {
    const token = readFileSync(file, 'utf8').trim();
    if (token.length >= 16) return { token, source: file };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  mkdirSync(dirname(file), { recursive: true });
  const token = randomBytes(32).toString('base64url');
  try {
    // 'wx': a server starting at the same moment either creates it or reads the other's.
    const fd = openSync(file, 'wx', 0o600);
    writeSync(fd, `${token}\n`);
    closeSync(fd);
    chmodSync(file, 0o600);
    return { token, source: file };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return { token: readFileSync(file, 'utf8').trim(), source: file };
  }
}

/**
 * The expected token as bytes in a fixed-size buffer, and a scratch buffer of the same size that
 * each check writes the presented token into. The scratch is shared: a check is synchronous.
 */
let expectedBytes: { token: string; padded: Buffer; length: number; scratch: Buffer } | undefined;
/** Presented tokens are compared over at least this many bytes (any token of up to this length costs the same). */
const COMPARE_BYTES = 256;

/**
 * Constant-time check of a presented token: both are compared over the same fixed number of
 * bytes (zero-padded, `timingSafeEqual`), and the lengths as numbers, so neither the content
 * nor the length leaks (a presented token longer than the buffer is refused without comparing:
 * that tells only that it was too long). No hash per request.
 */
export function tokenMatches(expected: string, presented: string | undefined): boolean {
  if (presented === undefined) return false;
  if (expectedBytes?.token !== expected) {
    const bytes = Buffer.from(expected, 'utf8');
    const size = Math.max(COMPARE_BYTES, bytes.length);
    const padded = Buffer.alloc(size);
    bytes.copy(padded);
    expectedBytes = { token: expected, padded, length: bytes.length, scratch: Buffer.alloc(size) };
  }
  const { padded, length, scratch } = expectedBytes;
  if (Buffer.byteLength(presented, 'utf8') > scratch.length) return false;
  scratch.fill(0);
  const written = scratch.write(presented, 'utf8');
  const same = timingSafeEqual(padded, scratch);
  const sameLength = written === length;
  return same && sameLength;
}

/** The token of an `Authorization: Bearer …` header. */
export function bearer(header: string | string[] | undefined): string | undefined {
  if (typeof header !== 'string') return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m?.[1];
}
