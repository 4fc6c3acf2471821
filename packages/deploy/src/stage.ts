import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { repoRoot, type BuildManifest } from './build';

/** The workspace project folders that pnpm-workspace.yaml names (`dir/*` and plain folders). */
export function workspaceProjects(root: string = repoRoot): string[] {
  const { packages = [] } = parse(readFileSync(join(root, 'pnpm-workspace.yaml'), 'utf8')) as { packages?: string[] };
  return packages.flatMap((pattern) => {
    if (pattern.endsWith('/*')) {
      const parent = pattern.slice(0, -2);
      return readdirSync(join(root, parent), { withFileTypes: true })
        .filter((d) => d.isDirectory() && existsSync(join(root, parent, d.name, 'package.json')))
        .map((d) => `${parent}/${d.name}`);
    }
    if (/[*?{[!]/.test(pattern)) throw new Error(`pnpm-workspace.yaml pattern ${pattern}: only "dir/*" and plain folders are handled here`);
    return existsSync(join(root, pattern, 'package.json')) ? [pattern] : [];
  });
}

/**
 * Lays out what an image runs, in `outDir`: `dist/` and a production-only, flat (hoisted)
 * node_modules with the third-party packages of the bundled workspace packages, installed from the
 * lockfile. The bundles import those packages by name from `dist/`, so they must sit in
 * `outDir/node_modules` itself, at the version the build saw (or `add` asked for); this checks
 * that they do.
 */
export function stageRuntime(options: { outDir: string; root?: string; distDir?: string; offline?: boolean; quiet?: boolean; add?: string[] }): void {
  const root = options.root ?? repoRoot;
  const distDir = options.distDir ?? join(root, 'dist');
  const { outDir } = options;
  const manifest = JSON.parse(readFileSync(join(distDir, 'build.json'), 'utf8')) as BuildManifest;

  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  // A frozen install checks every workspace project's manifest against the lockfile.
  for (const file of ['package.json', 'pnpm-lock.yaml', 'pnpm-workspace.yaml', '.npmrc']) {
    if (existsSync(join(root, file))) cpSync(join(root, file), join(outDir, file));
  }
  for (const project of workspaceProjects(root)) {
    mkdirSync(join(outDir, project), { recursive: true });
    cpSync(join(root, project, 'package.json'), join(outDir, project, 'package.json'));
  }
  cpSync(distDir, join(outDir, 'dist'), { recursive: true });

  // Packages an image adds (the GPU trainer's @tensorflow/tfjs-node-gpu, which the learning
  // package loads when present) go into the staged copy of @alder/learning's manifest; the install
  // then resolves them and updates the staged copy of the lockfile, never the repository's.
  const add = options.add ?? [];
  const expected = { ...manifest.externals };
  if (add.length) {
    const learning = join(outDir, 'packages/learning/package.json');
    const pkg = JSON.parse(readFileSync(learning, 'utf8')) as { dependencies?: Record<string, string> };
    for (const spec of add) {
      const at = spec.lastIndexOf('@');
      if (at <= 0) throw new Error(`--add ${spec}: give name@version`);
      pkg.dependencies = { ...pkg.dependencies, [spec.slice(0, at)]: spec.slice(at + 1) };
      expected[spec.slice(0, at)] = spec.slice(at + 1);
    }
    writeFileSync(learning, `${JSON.stringify(pkg, null, 2)}\n`);
  }

  const filters = manifest.workspacePackages.flatMap((name) => ['--filter', name]);
  const args = ['install', '--prod', add.length ? '--no-frozen-lockfile' : '--frozen-lockfile', '--config.node-linker=hoisted', ...filters];
  // Prefer the store (the test's packages are all there after `pnpm install`), but fetch what
  // pnpm's metadata cache lacks: a pure --offline install fails whenever that cache was pruned.
  if (options.offline) args.push('--prefer-offline');
  try {
    execFileSync('pnpm', args, { cwd: outDir, stdio: ['ignore', options.quiet ? 'pipe' : 'inherit', options.quiet ? 'pipe' : 'inherit'] });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: Buffer; stderr?: Buffer };
    throw new Error(`pnpm ${args.join(' ')} failed${stdout || stderr ? `:\n${stdout ?? ''}${stderr ?? ''}` : ''}`);
  }

  const wrong: string[] = [];
  for (const [name, version] of Object.entries(expected)) {
    const installed = join(outDir, 'node_modules', name, 'package.json');
    const found = existsSync(installed) ? (JSON.parse(readFileSync(installed, 'utf8')) as { version: string }).version : 'missing';
    if (found !== version) wrong.push(`${name}: built against ${version}, node_modules has ${found}`);
  }
  if (wrong.length) throw new Error(`the staged node_modules does not match the bundles:\n  ${wrong.join('\n  ')}`);
}
