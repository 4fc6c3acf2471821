import { resolve } from 'node:path';
import { buildBundles } from './build';
import { stageRuntime } from './stage';

const usage = `usage: pnpm build [--stage <dir> [--add <name@version>]...]

Bundles every entry point into dist/. With --stage, also lays out what an image runs in <dir>
(dist/ plus a production node_modules), as deploy/Dockerfile does; --add puts another package
into that node_modules (the GPU trainer's @tensorflow/tfjs-node-gpu).
`;

const args = process.argv.slice(2);
let stageDir: string | undefined;
const add: string[] = [];
for (let i = 0; i < args.length; i++) {
  const [flag, value] = [args[i], args[i + 1]];
  if ((flag === '--stage' || flag === '--add') && value && !value.startsWith('--')) {
    if (flag === '--stage') stageDir = resolve(value);
    else add.push(value);
    i++;
  } else {
    process.stderr.write(flag === '--help' ? usage : `unknown or incomplete argument: ${flag}\n\n${usage}`);
    process.exit(flag === '--help' ? 0 : 2);
  }
}
if (add.length && !stageDir) {
  process.stderr.write(`--add needs --stage\n\n${usage}`);
  process.exit(2);
}

try {
  const started = Date.now();
  const manifest = await buildBundles();
  process.stdout.write(
    `built dist/{${manifest.bundles.join(',')}}.js from ${manifest.workspacePackages.length} workspace packages ` +
      `(${Object.keys(manifest.externals).length} external packages) in ${Date.now() - started} ms\n`,
  );
  if (stageDir) {
    stageRuntime({ outDir: stageDir, add });
    process.stdout.write(`staged the runtime in ${stageDir}\n`);
  }
} catch (error) {
  // esbuild has already printed its errors with their locations; the rest say what failed.
  process.stderr.write(`build failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
