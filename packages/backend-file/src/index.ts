export { FileBackend, createFileBackend } from './file-backend.js';
export { backendModule, backendModule as default, createBackend } from './module.js';
export { DEFAULT_BACKUP_COUNT, DEFAULT_DIRECTORY_NAME, DEFAULT_DURABILITY } from './options.js';
export type { Durability, FileBackendOptions, FileSettings } from './options.js';
