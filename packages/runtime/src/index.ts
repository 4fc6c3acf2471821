export { createShutdown, shutdownOnSignals, SHUTDOWN_PHASES, ShutdownUnderway, type Shutdown, type ShutdownPhase } from './shutdown';
export { requireServerUrls } from './require-urls';
