import { fileURLToPath } from 'node:url';

/**
 * Where a worker thread's code is, the one way Alder loads it: next to the running module as
 * `<name>.js` in a compiled build (all bundles sit in one folder), or as `<name>.ts` through a
 * bootstrap that registers tsx first when running from source. `callerUrl` is the caller's
 * `import.meta.url`.
 */
export function threadEntry(callerUrl: string, name: string): { filename: string; workerData: Record<string, unknown> } {
  if (/\.ts$/.test(new URL(callerUrl).pathname)) {
    return {
      filename: new URL('./thread-bootstrap.mjs', import.meta.url).href,
      workerData: { entry: new URL(`./${name}.ts`, callerUrl).href },
    };
  }
  return { filename: new URL(`./${name}.js`, callerUrl).href, workerData: {} };
}

/**
 * The same rule for a child process: `node --import tsx <name>.ts` from source, `node <name>.js`
 * when compiled. Returns the arguments for `spawn(process.execPath, args)`.
 */
export function processEntryArgs(callerUrl: string, name: string): string[] {
  const caller = new URL(callerUrl);
  // fileURLToPath, not .pathname: a checkout under "My Projects" is percent-encoded in a URL.
  if (/\.ts$/.test(caller.pathname)) return ['--import', import.meta.resolve('tsx'), fileURLToPath(new URL(`./${name}.ts`, caller))];
  return [fileURLToPath(new URL(`./${name}.js`, caller))];
}
