export { createFirebaseBackend, createBackend, backendModule, backendModule as default } from './module.js';
export type { FirebaseBackendOptions, FirebaseSettings } from './options.js';
export type { FirebaseBackend } from './firebase-backend.js';
export { namespaceNodes } from './layout.js';
