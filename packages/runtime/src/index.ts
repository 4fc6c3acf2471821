export { createShutdown, shutdownOnSignals, type Shutdown } from './shutdown';
export { requireServerUrls } from './require-urls';
