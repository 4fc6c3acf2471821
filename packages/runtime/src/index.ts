export { createShutdown, shutdownOnSignals, SHUTDOWN_PHASES, type Shutdown, type ShutdownPhase } from './shutdown';
export { requireServerUrls } from './require-urls';
