import type { Schemas } from '@alder/client';
import { CliUsageError, EXIT, type CliEnv, type CliIo } from './cli-io';
import { connect, type ConnectionFlags } from './connection';
import { reportFailure } from './failure';
import { formatTable, shortTime } from './table';

export interface ProjectsListFlags extends ConnectionFlags {
  json?: boolean;
}

export interface ProjectsCreateFlags extends ConnectionFlags {
  name: string;
  labels: string;
  strategy?: string;
  retrainEvery?: string;
  json?: boolean;
}

const PAGE = 200;

/** `alder projects [list]`: every project the key's user may see, as a table or JSON lines. */
export async function runProjectsList(flags: ProjectsListFlags, env: CliEnv, io: CliIo): Promise<number> {
  try {
    const client = connect(flags, env, io);
    const projects: Schemas['Project'][] = [];
    for (let offset = 0; ; offset += PAGE) {
      const page = await client.listProjects({ limit: PAGE, offset });
      projects.push(...page.data);
      if (page.data.length < PAGE || projects.length >= page.total) break;
    }
    if (flags.json) {
      for (const p of projects) io.stdout.write(`${JSON.stringify(p)}\n`);
      return EXIT.ok;
    }
    if (!projects.length) {
      io.stderr.write('no projects (alder projects create --name NAME --labels A,B makes one)\n');
      return EXIT.ok;
    }
    io.stdout.write(
      formatTable(
        ['ID', 'NAME', 'LABELS', 'LABELED', 'STRATEGY', 'CREATED'],
        projects.map((p) => [p.id, p.name, p.labels.join(','), String(p.label_count), p.strategy, shortTime(p.created_at)]),
      ),
    );
    return EXIT.ok;
  } catch (error) {
    return reportFailure('projects', error, io);
  }
}

/** `alder projects create --name N --labels A,B`: prints the new project's id (or it whole with --json). */
export async function runProjectsCreate(flags: ProjectsCreateFlags, env: CliEnv, io: CliIo): Promise<number> {
  try {
    const labels = flags.labels.split(',').map((l) => l.trim()).filter(Boolean);
    if (labels.length < 2) throw new CliUsageError(`--labels needs at least two labels, comma-separated (got ${JSON.stringify(flags.labels)})`);
    let retrainEvery: number | undefined;
    if (flags.retrainEvery !== undefined) {
      retrainEvery = Number(flags.retrainEvery);
      if (!Number.isInteger(retrainEvery) || retrainEvery < 1) throw new CliUsageError(`--retrain-every must be a whole number of at least 1, not ${JSON.stringify(flags.retrainEvery)}`);
    }
    const client = connect(flags, env, io);
    const project = await client.createProject({
      name: flags.name,
      labels,
      ...(flags.strategy ? { strategy: flags.strategy as Schemas['Strategy'] } : {}),
      ...(retrainEvery ? { retrain_every: retrainEvery } : {}),
    });
    io.stdout.write(flags.json ? `${JSON.stringify(project)}\n` : `${project.id}\n`);
    return EXIT.ok;
  } catch (error) {
    return reportFailure('projects create', error, io);
  }
}
