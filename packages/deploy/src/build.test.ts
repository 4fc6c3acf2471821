import { join } from 'node:path';
import { rewriteRuntimeFiles } from './build';

const root = '/repo';
const bundles = new Set(['alder', 'compute.thread', 'simulate.thread']);
const rewrite = (source: string, file: string) => rewriteRuntimeFiles(source, join(root, file), root, bundles);

describe('rewriteRuntimeFiles', () => {
  it('points assets at their copies in dist/, keeping a trailing slash', () => {
    expect(rewrite(`new URL('../../../openapi/openapi.yaml', import.meta.url)`, 'packages/api-types/src/index.ts')).toEqual({
      contents: `new URL("./openapi/openapi.yaml", import.meta.url)`,
      errors: [],
    });
    expect(rewrite(`new URL("../migrations/", import.meta.url)`, 'packages/db/src/migrate.ts').contents).toBe(`new URL("./migrations/", import.meta.url)`);
  });

  it('points code at the sibling bundle and leaves source-only files alone', () => {
    expect(rewrite(`new URL('./simulate.thread.js', import.meta.url)`, 'packages/cli/src/simulate/in-process.runner.ts').contents).toBe(
      `new URL("./simulate.thread.js", import.meta.url)`,
    );
    const bootstrap = `new URL('./thread-bootstrap.mjs', import.meta.url)`;
    expect(rewrite(bootstrap, 'packages/compute/src/thread-entry.ts')).toEqual({ contents: bootstrap, errors: [] });
  });

  it('fails on a file it would not ship and on an entry it does not build', () => {
    expect(rewrite(`new URL('../data/model.bin', import.meta.url)`, 'packages/learning/src/x.ts').errors).toEqual([
      "packages/learning/src/x.ts reads packages/learning/data/model.bin at run time, which is not in the build's assets",
    ]);
    expect(rewrite(`new URL('./other.thread.ts', import.meta.url)`, 'packages/x/src/y.ts').errors).toHaveLength(1);
    expect(rewrite(`threadEntry(import.meta.url, 'scoring.thread')`, 'packages/x/src/y.ts').errors).toHaveLength(1);
    expect(rewrite(`threadEntry(import.meta.url, 'compute.thread')`, 'packages/x/src/y.ts').errors).toEqual([]);
  });

  it('leaves computed URLs to their code', () => {
    const source = 'new URL(`./${name}.js`, import.meta.url)';
    expect(rewrite(source, 'packages/compute/src/thread-entry.ts')).toEqual({ contents: source, errors: [] });
  });
});
