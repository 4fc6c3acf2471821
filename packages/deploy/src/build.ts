import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { fileURLToPath } from 'node:url';
import { basename, dirname, extname, join, relative, resolve, sep } from 'node:path';
import { build, type Plugin } from 'esbuild';
import { assets, mainEntries, sideEntryPattern, sourceOnly, type BundleEntry } from './build.entries';

/** What a build produced, also written to `dist/build.json` for the runtime stage and the checks. */
export interface BuildManifest {
  /** Bundle names: `node dist/<name>.js`. */
  bundles: string[];
  /** Third-party packages the bundles import at run time, with the version the workspace uses. */
  externals: Record<string, string>;
  /** The workspace packages whose code is in the bundles. */
  workspacePackages: string[];
  /** Every source file of the repository the bundles were built from. */
  inputs: string[];
}

/** The repository root (this file is packages/deploy/src/build.ts). */
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

const toPosix = (path: string) => path.split(sep).join('/');

/** The main entries plus every `*.thread.ts` / `*.process.ts` under packages/ and services/. */
export function findEntries(root: string = repoRoot): BundleEntry[] {
  const side: BundleEntry[] = [];
  for (const top of ['packages', 'services']) {
    for (const pkg of readdirSync(join(root, top))) {
      const src = join(root, top, pkg, 'src');
      if (!existsSync(src)) continue;
      for (const file of readdirSync(src, { recursive: true }) as string[]) {
        const rel = toPosix(join(top, pkg, 'src', file));
        if (sideEntryPattern.test(rel)) side.push({ in: rel, out: basename(rel, '.ts') });
      }
    }
  }
  const entries = [...mainEntries, ...side.sort((a, b) => a.in.localeCompare(b.in))];
  const seen = new Map<string, string>();
  for (const entry of entries) {
    if (!existsSync(join(root, entry.in))) throw new Error(`build entry ${entry.in} does not exist`);
    const other = seen.get(entry.out);
    if (other) throw new Error(`${entry.in} and ${other} would both become dist/${entry.out}.js`);
    seen.set(entry.out, entry.in);
  }
  return entries;
}

function packageNameOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

function versionAt(resolvedPath: string, name: string): string {
  let dir = dirname(realpathSync(resolvedPath));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === name && pkg.version) return pkg.version;
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`no package.json of ${name} above ${resolvedPath}`);
    dir = up;
  }
}

/**
 * Bundles the workspace packages (@alder/*) and keeps every third-party package external, so native
 * and wasm packages load from node_modules at run time. An external must resolve from the package
 * that imports it (no undeclared dependencies), and all importers must get the same version: the
 * image's flat node_modules holds one copy, the one the bundle then loads.
 */
function externalsPlugin(root: string, seen: Map<string, Map<string, string[]>>): Plugin {
  return {
    name: 'alder-externals',
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, async (args) => {
        if (args.pluginData === 'alder-externals') return undefined;
        if (isBuiltin(args.path)) return { path: args.path, external: true };
        if (args.path.startsWith('@alder/')) return undefined;
        const resolved = await b.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: 'alder-externals' });
        if (resolved.errors.length) return { errors: resolved.errors };
        const name = packageNameOf(args.path);
        const version = versionAt(resolved.path, name);
        const byVersion = seen.get(name) ?? new Map<string, string[]>();
        byVersion.set(version, [...(byVersion.get(version) ?? []), toPosix(relative(root, args.importer))]);
        seen.set(name, byVersion);
        return { path: args.path, external: true };
      });
    },
  };
}

const urlLiteral = /new URL\(\s*(['"`])([^'"`$\\]+)\1\s*,\s*import\.meta\.url\s*\)/g;
const entryName = /['"`]([\w-]+(?:\.[\w-]+)*\.(?:thread|process))['"`]/g;
const codeFile = /\.[cm]?[jt]s$/;

/**
 * In a bundle `import.meta.url` is the bundle's own URL, so a file located relative to a source
 * module would be looked for in the wrong place. Each `new URL('<literal>', import.meta.url)` is
 * rewritten to the copy in dist/ (assets) or to the sibling bundle (code); anything else is an
 * error, as is a thread or process entry named in the code that the build does not produce.
 */
export function rewriteRuntimeFiles(source: string, path: string, root: string, bundles: ReadonlySet<string>): { contents: string; errors: string[] } {
  const file = toPosix(relative(root, path));
  const errors: string[] = [];
  for (const [, name] of source.matchAll(entryName)) {
    if (!bundles.has(name!)) errors.push(`${file} starts '${name}', which the build does not produce (no ${name}.ts matching the side-entry pattern)`);
  }
  const contents = source.replace(urlLiteral, (whole, _quote: string, literal: string) => {
    const target = toPosix(relative(root, resolve(dirname(path), literal)));
    const asset = assets.find((a) => target === a.from || target.startsWith(`${a.from}/`));
    if (asset) {
      let rest = target.slice(asset.from.length);
      if (literal.endsWith('/') && !rest.endsWith('/')) rest += '/';
      return `new URL(${JSON.stringify(`./${asset.to}${rest}`)}, import.meta.url)`;
    }
    if (codeFile.test(target)) {
      if (sourceOnly.includes(target)) return whole;
      const name = basename(target, extname(target));
      if (bundles.has(name)) return `new URL(${JSON.stringify(`./${name}.js`)}, import.meta.url)`;
      errors.push(`${file} loads ${target}, which the build does not produce: add it to the entries or to sourceOnly`);
      return whole;
    }
    errors.push(`${file} reads ${target} at run time, which is not in the build's assets`);
    return whole;
  });
  return { contents, errors };
}

function runtimeFilesPlugin(root: string, bundles: ReadonlySet<string>): Plugin {
  return {
    name: 'alder-runtime-files',
    setup(b) {
      b.onLoad({ filter: codeFile }, (args) => {
        if (args.path.includes(`${sep}node_modules${sep}`)) return undefined;
        const source = readFileSync(args.path, 'utf8');
        if (!source.includes('import.meta')) return undefined;
        const { contents, errors } = rewriteRuntimeFiles(source, args.path, root, bundles);
        if (errors.length) return { errors: errors.map((text) => ({ text })) };
        return { contents, loader: extname(args.path).includes('t') ? 'ts' : 'js', resolveDir: dirname(args.path) };
      });
    },
  };
}

function workspacePackageOf(root: string, input: string): string | undefined {
  const [top, dir] = input.split('/');
  if ((top !== 'packages' && top !== 'services') || !dir) return undefined;
  const manifest = join(root, top, dir, 'package.json');
  return existsSync(manifest) ? (JSON.parse(readFileSync(manifest, 'utf8')) as { name: string }).name : undefined;
}

/** Builds every entry into `outDir` (ESM for Node 20), copies the assets, writes build.json. */
export async function buildBundles(options: { root?: string; outDir?: string } = {}): Promise<BuildManifest> {
  const root = options.root ?? repoRoot;
  const outDir = options.outDir ?? join(root, 'dist');
  const entries = findEntries(root);
  const bundles = new Set(entries.map((e) => e.out));
  const seen = new Map<string, Map<string, string[]>>();
  rmSync(outDir, { recursive: true, force: true });
  const result = await build({
    absWorkingDir: root,
    entryPoints: entries.map((e) => ({ in: join(root, e.in), out: e.out })),
    outdir: outDir,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: 'linked',
    keepNames: true,
    metafile: true,
    logLevel: 'warning',
    plugins: [externalsPlugin(root, seen), runtimeFilesPlugin(root, bundles)],
  });

  const externals: Record<string, string> = {};
  const conflicts: string[] = [];
  for (const [name, byVersion] of [...seen].sort(([a], [b]) => a.localeCompare(b))) {
    if (byVersion.size > 1) {
      conflicts.push(`${name}: ${[...byVersion].map(([v, importers]) => `${v} (${[...new Set(importers)].join(', ')})`).join(' vs ')}`);
    }
    externals[name] = [...byVersion.keys()][0]!;
  }
  if (conflicts.length) throw new Error(`the bundles would load one copy of each package, but the workspace uses several:\n  ${conflicts.join('\n  ')}`);

  for (const asset of assets) {
    cpSync(join(root, asset.from), join(outDir, asset.to), {
      recursive: true,
      filter: (src) => !asset.files || src === join(root, asset.from) || asset.files.test(basename(src)),
    });
  }
  const inputs = Object.keys(result.metafile.inputs).filter((input) => !input.includes('node_modules/')).sort();
  const workspacePackages = [...new Set(inputs.map((input) => workspacePackageOf(root, input)))]
    .filter((name): name is string => Boolean(name))
    .sort();
  const manifest: BuildManifest = { bundles: [...bundles], externals, workspacePackages, inputs };
  mkdirSync(outDir, { recursive: true });
  // The bundles are ES modules whatever package.json they end up beside.
  writeFileSync(join(outDir, 'package.json'), `${JSON.stringify({ type: 'module' }, null, 2)}\n`);
  writeFileSync(join(outDir, 'build.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}
