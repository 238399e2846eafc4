/**
 * The bearer token: `AGENT_STATE_TOKEN`, else a token file (default `.agent-state/serve.token`
 * next to project.yml, or in the working directory), created on first start with 32 random
 * bytes (base64url), mode 0600. Compared in constant time.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
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

const sha256 = (text: string): Buffer => createHash('sha256').update(text).digest();
/** The expected token's digest, kept: one hash per request instead of two (the profile showed them). */
let expectedDigest: { token: string; digest: Buffer } | undefined;

/** Constant-time check of a presented token (hashes first, so lengths never leak either). */
export function tokenMatches(expected: string, presented: string | undefined): boolean {
  if (presented === undefined) return false;
  if (expectedDigest?.token !== expected) expectedDigest = { token: expected, digest: sha256(expected) };
  return timingSafeEqual(expectedDigest.digest, sha256(presented));
}

/** The token of an `Authorization: Bearer …` header. */
export function bearer(header: string | string[] | undefined): string | undefined {
  if (typeof header !== 'string') return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m?.[1];
}
