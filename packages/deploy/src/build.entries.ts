/**
 * What `pnpm build` puts in `dist/`, declared once: the images run these bundles, and the deploy
 * checks hold every command in the Dockerfile, compose and Kubernetes files to this list.
 */

/** A process entry point and the bundle it becomes, `dist/<out>.js`. */
export interface BundleEntry {
  in: string;
  out: string;
}

/** The commands the images run: `node dist/<out>.js`. */
export const mainEntries: readonly BundleEntry[] = [
  { in: 'packages/cli/src/main.ts', out: 'alder' },
  { in: 'services/ingest/src/main.ts', out: 'ingest' },
  { in: 'services/labeling-api/src/main.ts', out: 'labeling-api' },
  { in: 'services/trainer/src/main.ts', out: 'trainer' },
  { in: 'services/sampling/src/main.ts', out: 'sampling' },
];

/**
 * Entries that other code starts by name as a worker thread (`*.thread.ts`) or a child process
 * (`*.process.ts`): each becomes `dist/<basename>.js`, flat beside the mains, because the loaders
 * (`threadEntry`, `embedded-servers.ts`) look for `<name>.js` next to the running bundle.
 */
export const sideEntryPattern = /^(packages|services)\/[^/]+\/src\/(.+\/)?[^/]+\.(thread|process)\.ts$/;

/**
 * Files the code reads at run time through `new URL('<literal>', import.meta.url)`: copied into
 * `dist/<to>`, and every such reference in the bundled code is rewritten to point there.
 */
export const assets: readonly { from: string; to: string; files?: RegExp }[] = [
  { from: 'openapi/openapi.yaml', to: 'openapi/openapi.yaml' },
  { from: 'packages/db/migrations', to: 'migrations', files: /^\d{4}_.+\.sql$/ },
  // `alder --version` reads the version of @alder/cli from its manifest.
  { from: 'packages/cli/package.json', to: 'cli/package.json' },
];

/**
 * `new URL('<literal>', import.meta.url)` references to code that is only loaded when running
 * from source (`.ts` through tsx), so the build neither bundles nor copies them.
 */
export const sourceOnly: readonly string[] = ['packages/compute/src/thread-bootstrap.mjs'];
