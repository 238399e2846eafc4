/**
 * Options of the Firebase backend and how they turn into what firebase-admin needs: a database
 * URL, a credential and a target to name in errors. Everything here runs before any network I/O,
 * so a bad setting fails fast with `InvalidConfigError`.
 */
import { readFileSync } from 'node:fs';
import { InvalidConfigError } from '@agent-state/core';
import { applicationDefault, cert, type Credential, type ServiceAccount } from 'firebase-admin/app';

/** The standard variable firebase-admin and the Firebase CLI use to point at the emulator. */
export const EMULATOR_ENV = 'FIREBASE_DATABASE_EMULATOR_HOST';

/** Options of {@link createFirebaseBackend}. */
export interface FirebaseBackendOptions {
  /** Firebase project id; gives the default database URL `https://<projectId>-default-rtdb.firebaseio.com`. */
  projectId?: string;
  /**
   * Path of a service-account key (JSON) used as a certificate credential. Without it (and
   * without an emulator) the application-default credential is used (`GOOGLE_APPLICATION_CREDENTIALS`).
   * Ignored when an emulator is used.
   */
  serviceAccountKeyPath?: string;
  /** Database URL; default from `projectId`. */
  databaseUrl?: string;
  /**
   * `host:port` of a Realtime Database emulator; default `FIREBASE_DATABASE_EMULATOR_HOST` from the
   * environment. With an emulator no credential is needed.
   */
  emulatorHost?: string;
}

/** The Firebase backend's keys of `communication.settings`, as its module's schema checks them. */
export interface FirebaseSettings {
  project_id?: string;
  service_account_key_path?: string;
  database_url?: string;
  emulator_host?: string;
}

declare module '@agent-state/core' {
  /** `project.yml` settings of the firebase backend, typed on core's `Settings` wherever this package is imported. */
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- merges the keys into core's interface
  interface Settings extends FirebaseSettings {}
}

/** Where options came from, so that error messages name what the user wrote. */
export interface OptionsOrigin {
  /** A project.yml path, `config` or `options`. */
  source: string;
  /** Whether fields are named as project.yml settings (`communication.settings.project_id`) or options (`projectId`). */
  naming: 'settings' | 'options';
}

const FIELD_NAMES = {
  projectId: 'project_id',
  serviceAccountKeyPath: 'service_account_key_path',
} as const;

function fieldName(origin: OptionsOrigin, field: keyof typeof FIELD_NAMES): string {
  return origin.naming === 'settings' ? `communication.settings.${FIELD_NAMES[field]}` : field;
}

/** What a connection needs, resolved from the options. */
export interface ResolvedFirebaseOptions {
  /** The URL handed to firebase-admin. */
  databaseUrl: string;
  /** The emulator in use, if any. */
  emulatorHost: string | undefined;
  /** Absent with an emulator (firebase-admin then authenticates as `owner`). */
  credential: Credential | undefined;
  /** Project id passed to the app, when known. */
  projectId: string | undefined;
  /** Where the database is, for messages (never a secret). */
  target: string;
}

/**
 * Validates options and loads the credential. A missing or unreadable key file is an
 * `InvalidConfigError` naming it.
 */
export function resolveOptions(
  options: FirebaseBackendOptions,
  env: NodeJS.ProcessEnv = process.env,
  origin: OptionsOrigin = { source: 'options', naming: 'options' },
): ResolvedFirebaseOptions {
  const emulatorHost = options.emulatorHost ?? (env[EMULATOR_ENV] || undefined);
  const projectId = options.projectId;

  let url = options.databaseUrl ?? (projectId !== undefined ? `https://${projectId}-default-rtdb.firebaseio.com` : undefined);
  if (emulatorHost !== undefined) {
    // The emulator serves every database name on one host; `ns` picks one, as with Google's emulator.
    const ns = (url ? namespaceOf(url) : undefined) ?? projectId ?? 'agent-state';
    url = `http://${emulatorHost}?ns=${encodeURIComponent(ns)}`;
    return { databaseUrl: url, emulatorHost, credential: undefined, projectId, target: `firebase emulator ${emulatorHost} (ns=${ns})` };
  }
  if (url === undefined) {
    throw new InvalidConfigError(origin.source, fieldName(origin, 'projectId'), 'the firebase backend needs a project id or a database URL (or an emulator host)');
  }
  const credential =
    options.serviceAccountKeyPath !== undefined ? loadKey(options.serviceAccountKeyPath, origin) : applicationDefault();
  return { databaseUrl: url, emulatorHost: undefined, credential, projectId, target: url };
}

function loadKey(path: string, origin: OptionsOrigin): Credential {
  const { source } = origin;
  const field = fieldName(origin, 'serviceAccountKeyPath');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new InvalidConfigError(source, field, `cannot read the service account key ${path}: ${(error as Error).message}`, { cause: error });
  }
  let key: ServiceAccount;
  try {
    key = JSON.parse(text) as ServiceAccount;
    return cert(key);
  } catch (error) {
    throw new InvalidConfigError(source, field, `${path} is not a valid service account key (JSON): ${(error as Error).message}`, { cause: error });
  }
}

/** The database name of a Firebase URL: `?ns=` or the first label of the host. */
function namespaceOf(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    return parsed.searchParams.get('ns') ?? parsed.hostname.split('.')[0] ?? undefined;
  } catch {
    return undefined;
  }
}
