/** `${VAR}` and `${VAR:-default}` substitution inside string values; `$${` stays a literal `${`. */

const PATTERN = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

export interface Substitution {
  /** The string with every reference replaced. */
  text: string;
  /** True when at least one reference was replaced. */
  substituted: boolean;
  /** Variables referenced without a default and not set in the environment. */
  missing: string[];
}

export function substituteEnv(text: string, env: Record<string, string | undefined>): Substitution {
  let substituted = false;
  const missing: string[] = [];
  const out = text.replace(PATTERN, (match, name: string | undefined, fallback: string | undefined) => {
    if (match === '$${') return '${';
    substituted = true;
    const value = env[name as string];
    if (value !== undefined && value !== '') return value;
    if (fallback !== undefined) return fallback;
    if (value === '') return '';
    missing.push(name as string);
    return '';
  });
  return { text: out, substituted, missing };
}
