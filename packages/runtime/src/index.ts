export { createShutdown, shutdownOnSignals, type Shutdown } from './shutdown';
export { requireServerUrls, loadServiceConfigOrExit } from './require-urls';
