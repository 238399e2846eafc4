import {
  InvalidConfigError,
  loadConfig,
  openState,
  type CommunicationConfigInput,
  type ResolvedConfig,
  type StateClient,
} from '@agent-state/core';
import { MigrateError } from '../errors.js';

/** How the command line names one side of a migration. */
export interface EndpointSpec {
  /**
   * A backend name (`file`, `sqlite`, `redis`, `firebase`, `postgres`, or any installed backend
   * package named in full); its settings come from the config file.
   */
  backend?: string;
  /** Another YAML file to take the `communication` block from (default: project.yml found from cwd). */
  configFile?: string;
  /** Namespace to use instead of the config's. */
  namespace?: string;
}

/** One side resolved: which store, which namespace, and the config to open it with. */
export interface Endpoint {
  backend: string;
  namespace: string;
  /** The config file the settings came from, or `defaults`. */
  source: string;
  /** Short name for file names and messages: the backend, or the config file's base name. */
  label: string;
  /** What `openState({ config })` receives. */
  config: CommunicationConfigInput;
}

/** Identifies an endpoint in markers and checkpoints (never a password). */
export interface EndpointId {
  backend: string;
  namespace: string;
  source: string;
}

/** Resolves a side from project.yml (or another YAML file), overriding the backend and namespace. */
export function resolveEndpoint(spec: EndpointSpec, cwd: string, env: NodeJS.ProcessEnv = process.env): Endpoint {
  // COMMUNICATION_BACKEND is core's own override: going through it validates the settings the
  // chosen backend needs (e.g. firebase's project_id) exactly as opening the project would, with
  // the backend's own module (core finds it: a first-party name or any installed package).
  const overridden = { ...env, ...(spec.backend !== undefined && { COMMUNICATION_BACKEND: spec.backend }) };
  let resolved: ResolvedConfig;
  try {
    resolved = loadConfig({
      cwd,
      env: overridden,
      ...(spec.configFile !== undefined && { configFile: spec.configFile }),
    });
  } catch (error) {
    const aboutBackend = error instanceof InvalidConfigError && (error.path === 'communication.backend' || error.path === 'COMMUNICATION_BACKEND');
    if (spec.backend !== undefined && aboutBackend) {
      throw new MigrateError(
        'CONFIG',
        `unknown backend ${JSON.stringify(spec.backend)} (expected one of ${FIRST_PARTY.join(', ')}), or an installed backend package named in full: ${error.problem}`,
        { cause: error },
      );
    }
    throw error;
  }
  const namespace = spec.namespace ?? resolved.namespace;
  const label = spec.configFile !== undefined ? baseLabel(spec.configFile, spec.backend) : resolved.backend;
  return {
    backend: resolved.backend,
    namespace,
    source: resolved.source,
    label,
    config: { backend: resolved.backend, namespace, settings: { ...resolved.settings } } as CommunicationConfigInput,
  };
}

/** The first-party backends, for messages (core finds any other installed backend package too). */
const FIRST_PARTY = ['file', 'sqlite', 'redis', 'firebase', 'postgres'];

/** Opens a state client on an endpoint; an unreachable store fails within its connect timeout. */
export async function openEndpoint(endpoint: Endpoint, cwd: string): Promise<StateClient> {
  // The settings are already substituted and the backend chosen: an empty environment keeps a
  // COMMUNICATION_BACKEND variable from pointing both sides at the same backend.
  // The tool's own clients pass the migration fence: they write its markers.
  return openState({ config: endpoint.config, cwd, env: {}, migrationFence: false });
}

/** The identity recorded in markers and checkpoints. */
export function endpointId(endpoint: Endpoint): EndpointId {
  return { backend: endpoint.backend, namespace: endpoint.namespace, source: endpoint.source };
}

function baseLabel(file: string, backend: string | undefined): string {
  const base = file.split(/[\\/]/).pop() ?? file;
  const stem = base.replace(/\.ya?ml$/i, '').replace(/[^A-Za-z0-9._-]/g, '_');
  return backend !== undefined ? `${stem}.${backend}` : stem;
}
