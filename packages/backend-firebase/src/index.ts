export { createFirebaseBackend, createBackend } from './create-backend.js';
export type { FirebaseBackendOptions } from './options.js';
export type { FirebaseBackend } from './firebase-backend.js';
export { namespaceNodes } from './paths.js';
