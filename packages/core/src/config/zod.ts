import { createRequire } from 'node:module';
import type { z as Zod } from 'zod';

// zod is loaded on the first validation, not when core is imported: a CLI call that only needs
// a client pays ~50 ms less start-up (measured with --cpu-prof). Loaded with require so that
// loadConfig() stays synchronous; zod ships a CommonJS build.
const require = createRequire(import.meta.url);
let zodModule: typeof import('zod') | undefined;

/** The zod namespace (`z`), loaded on first call. */
export function zod(): typeof Zod {
  zodModule ??= require('zod') as typeof import('zod');
  return zodModule.z;
}

/** The `z` namespace of zod, as a backend module's settings factory receives it. */
export type ZodApi = typeof Zod;

/**
 * Builders for the usual setting types, each with the words an error message uses
 * ("expected a whole number from 1 to 65535, got 70000"). A backend module's `settings` factory
 * receives them as its second argument; plain zod schemas work too (zod's own message is used).
 */
export interface SettingTypes {
  /** Any string. */
  string(): Zod.ZodString;
  /** A non-empty path; a relative one is resolved against the project directory when listed in the module's `paths`. */
  path(): Zod.ZodString;
  /** A finite number > 0. */
  positive(): Zod.ZodNumber;
  /** A whole number > 0. */
  positiveInt(): Zod.ZodNumber;
  /** A whole number >= 0. */
  count(): Zod.ZodNumber;
  /** A TCP port, 1 to 65535. */
  port(): Zod.ZodNumber;
  /** `true` or `false`. */
  boolean(): Zod.ZodBoolean;
  /** `scheme://…`. */
  url(): Zod.ZodString;
  /** `host:port`. */
  hostPort(): Zod.ZodString;
  /** One of the given strings. */
  oneOf<const T extends readonly [string, ...string[]]>(values: T): Zod.ZodEnum<{ [K in T[number]]: K }>;
}

let types: SettingTypes | undefined;

/** The {@link SettingTypes} builders (loads zod). */
export function settingTypes(): SettingTypes {
  if (types) return types;
  const z = zod();
  const e = (words: string) => ({ error: `expected ${words}` });
  return (types = {
    string: () => z.string(e('a string')),
    path: () => z.string(e('a non-empty path')).min(1, e('a non-empty path')),
    positive: () => z.number(e('a number greater than 0')).positive(e('a number greater than 0')).finite(e('a number greater than 0')),
    positiveInt: () => z.number(e('a whole number greater than 0')).int(e('a whole number greater than 0')).positive(e('a whole number greater than 0')),
    count: () => z.number(e('a whole number >= 0')).int(e('a whole number >= 0')).nonnegative(e('a whole number >= 0')),
    port: () => z.number(e('a whole number from 1 to 65535')).int(e('a whole number from 1 to 65535')).min(1, e('a whole number from 1 to 65535')).max(65535, e('a whole number from 1 to 65535')),
    boolean: () => z.boolean(e('true or false')),
    url: () => z.string(e('a URL')).regex(/^[a-z][a-z0-9+.-]*:\/\/\S+$/i, e('a URL')),
    hostPort: () => z.string(e('host:port')).regex(/^[^\s:/]+:\d{1,5}$/, e('host:port')),
    oneOf: (values) => z.enum(values, e(`one of ${values.join(', ')}`)),
  });
}
