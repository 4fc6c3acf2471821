export { defineService, type RunningService, type ServiceContext, type ServiceDefinition } from './service';
export { runServices, type Host, type HostOptions } from './run-services';
export { failStart, runServiceMain, startProcess, type ProcessStart } from './run-main';
