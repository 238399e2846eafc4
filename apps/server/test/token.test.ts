/** `tokenMatches`: the constant-time comparison of a presented bearer token (no I/O). */
import { describe, expect, it } from 'vitest';
import { tokenMatches } from '../src/token.js';

const TOKEN = 'q3Xv9n0mZk2Jr7Lb8Yc1Wd4Ef5Gh6Ti0Ua-Sb_Pc';

describe('tokenMatches', () => {
  it('accepts exactly the token', () => {
    expect(tokenMatches(TOKEN, TOKEN)).toBe(true);
    expect(tokenMatches(TOKEN, `${TOKEN}`.slice(0))).toBe(true);
  });

  it('refuses a missing, empty, shorter, longer, NUL-padded or one-byte-off token', () => {
    expect(tokenMatches(TOKEN, undefined)).toBe(false);
    expect(tokenMatches(TOKEN, '')).toBe(false);
    expect(tokenMatches(TOKEN, TOKEN.slice(0, -1))).toBe(false);
    expect(tokenMatches(TOKEN, `${TOKEN}x`)).toBe(false);
    // The comparison pads with zero bytes: a presented token ending in NULs must still differ.
    expect(tokenMatches(TOKEN, `${TOKEN}\u0000`)).toBe(false);
    expect(tokenMatches(TOKEN, `${TOKEN.slice(0, -1)}d`)).toBe(false);
    expect(tokenMatches(TOKEN, 'x'.repeat(10_000))).toBe(false);
    expect(tokenMatches(TOKEN, 'é'.repeat(TOKEN.length))).toBe(false);
  });

  it('follows a change of the expected token, including one longer than the compared bytes', () => {
    const other = 'z'.repeat(40);
    expect(tokenMatches(other, other)).toBe(true);
    expect(tokenMatches(other, TOKEN)).toBe(false);
    const long = 'L'.repeat(300);
    expect(tokenMatches(long, long)).toBe(true);
    expect(tokenMatches(long, 'L'.repeat(299))).toBe(false);
    expect(tokenMatches(TOKEN, TOKEN)).toBe(true);
  });
});
