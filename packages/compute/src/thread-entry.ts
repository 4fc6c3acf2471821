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
