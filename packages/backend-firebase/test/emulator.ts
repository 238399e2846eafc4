/** The tests' emulator is the package's own (`@agent-state/backend-firebase/emulator`). */
export { freePort, startEmulator } from '../src/emulator.js';
