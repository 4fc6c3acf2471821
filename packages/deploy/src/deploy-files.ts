import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { repoRoot } from './build';

/** One Kubernetes object as parsed from YAML (the checks read only the fields they name). */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec?: any;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  [key: string]: unknown;
}

/** Every document of every `deploy/k8s/*.yaml`, with the file it came from. */
export function loadKubernetesObjects(root: string = repoRoot): { file: string; object: K8sObject }[] {
  const dir = join(root, 'deploy/k8s');
  return readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .flatMap((f) => {
      const file = `deploy/k8s/${f}`;
      return parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((doc) => {
        if (doc.errors.length) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join('; ')}`);
        return { file, object: doc.toJS() as K8sObject };
      });
    })
    .filter(({ object }) => object !== null);
}

/** docker-compose.yml with YAML merge keys (`<<: *alder`) applied, as compose applies them. */
export function loadCompose(root: string = repoRoot): any {
  return parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), { merge: true });
}

/** Compose's `${VAR}` / `${VAR:-default}` interpolation, with an empty environment. */
export function interpolateCompose(value: string): string {
  return value.replace(/\$\{(\w+)(?::?-([^}]*))?\}/g, (_whole, _name: string, fallback?: string) => fallback ?? '');
}

export interface DockerStage {
  name: string;
  from: string;
  env: Record<string, string>;
  /** ARG defaults declared in this stage. */
  args: Record<string, string>;
  cmd?: string[];
}

/** The stages of a Dockerfile with their ARG defaults, ENV and exec-form CMD (enough for the checks). */
export function parseDockerfile(path: string = join(repoRoot, 'deploy/Dockerfile')): DockerStage[] {
  const lines = readFileSync(path, 'utf8')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const stages: DockerStage[] = [];
  for (const line of lines) {
    const [, instruction = '', rest = ''] = /^(\w+)\s+(.*)$/.exec(line) ?? [];
    const stage = stages[stages.length - 1];
    switch (instruction.toUpperCase()) {
      case 'FROM': {
        const [, from = '', name] = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest) ?? [];
        stages.push({ name: name ?? `#${stages.length}`, from, env: {}, args: {} });
        break;
      }
      case 'ARG': {
        const [, key = '', value] = /^(\w+)(?:=(\S*))?$/.exec(rest) ?? [];
        if (stage && value !== undefined) stage.args[key] = value;
        break;
      }
      case 'ENV':
        for (const [, key, value] of rest.matchAll(/(\w+)=("[^"]*"|\S+)/g)) stage!.env[key!] = value!.replace(/^"|"$/g, '');
        break;
      case 'CMD':
        stage!.cmd = JSON.parse(rest) as string[];
        break;
    }
  }
  return stages;
}

/** The bundle a command runs (`node dist/<name>.js ...` -> name), else undefined. */
export function bundleOf(command: readonly string[] | undefined): string | undefined {
  if (!command || command[0] !== 'node') return undefined;
  const script = command.slice(1).find((arg) => !arg.startsWith('-'));
  return /^dist\/(.+)\.js$/.exec(script ?? '')?.[1];
}
