import assert from 'node:assert/strict';
import { mkdtemp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import ts from 'typescript';
import { parseAllDocuments } from 'yaml';
import { loadConfigFromDir } from '../../lib/config/load.js';
import { REPO } from '../helpers/haraka.js';

// deploy/kubernetes, checked offline: every object against the Kubernetes JSON schemas
// (kubernetes-models, generated from the API's OpenAPI: types, required fields, formats);
// unknown fields (a typo such as `readinesProbe`, which the API server would drop silently)
// by type-checking each object against the same models' TypeScript interfaces; and the
// references between the objects and PhishX's own configuration.

const DIR = path.join(REPO, 'deploy', 'kubernetes');

type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; labels?: Record<string, string> }; [k: string]: unknown };

/** Model module and class of each kind the manifests use. */
const MODELS: Record<string, { module: string; cls: string }> = {
  'v1/Namespace': { module: 'kubernetes-models/v1/Namespace', cls: 'Namespace' },
  'v1/ConfigMap': { module: 'kubernetes-models/v1/ConfigMap', cls: 'ConfigMap' },
  'v1/Secret': { module: 'kubernetes-models/v1/Secret', cls: 'Secret' },
  'v1/Service': { module: 'kubernetes-models/v1/Service', cls: 'Service' },
  'apps/v1/StatefulSet': { module: 'kubernetes-models/apps/v1/StatefulSet', cls: 'StatefulSet' },
  'policy/v1/PodDisruptionBudget': { module: 'kubernetes-models/policy/v1/PodDisruptionBudget', cls: 'PodDisruptionBudget' },
  'autoscaling/v2/HorizontalPodAutoscaler': { module: 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler', cls: 'HorizontalPodAutoscaler' },
  'networking.k8s.io/v1/NetworkPolicy': { module: 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy', cls: 'NetworkPolicy' },
  'monitoring.coreos.com/v1/ServiceMonitor': {
    module: '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor',
    cls: 'ServiceMonitor',
  },
};

async function schemaErrors(obj: K8sObject): Promise<string | null> {
  const m = MODELS[`${obj.apiVersion}/${obj.kind}`];
  if (!m) return `no schema for ${obj.apiVersion} ${obj.kind}`;
  const mod = (await import(m.module)) as Record<string, new (o: unknown) => { validate(): void }>;
  try {
    new mod[m.cls](obj).validate();
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

/** TypeScript diagnostics of `objs` assigned to their kinds' interfaces (excess properties are errors). */
function typeErrors(objs: K8sObject[]): string[] {
  const dir = path.join(REPO, 'dist', 'k8s-typecheck');
  const file = path.join(dir, 'manifests.mts');
  const lines: string[] = [];
  objs.forEach((o, i) => {
    const m = MODELS[`${o.apiVersion}/${o.kind}`];
    lines.push(`import type { I${m.cls} as T${i} } from '${m.module}';`);
    lines.push(`export const o${i}: T${i} = ${JSON.stringify(o)};`);
  });
  const host = ts.createCompilerHost({});
  const read = host.readFile.bind(host);
  host.readFile = (f) => (path.resolve(f) === file ? lines.join('\n') : read(f));
  host.fileExists = (
    (orig) => (f: string) =>
      path.resolve(f) === file || orig(f)
  )(host.fileExists.bind(host));
  const program = ts.createProgram(
    [file],
    { strict: true, noEmit: true, module: ts.ModuleKind.Node16, moduleResolution: ts.ModuleResolutionKind.Node16, skipLibCheck: true, types: [] },
    host,
  );
  return ts.getPreEmitDiagnostics(program).map((d) => `${ts.flattenDiagnosticMessageText(d.messageText, '\n').slice(0, 300)}`);
}

const matches = (selector: Record<string, string>, labels: Record<string, string>): boolean => Object.entries(selector).every(([k, v]) => labels[k] === v);

describe('deploy/kubernetes manifests', () => {
  const objs: K8sObject[] = [];
  const byKind = (kind: string, name?: string): K8sObject => {
    const o = objs.find((x) => x.kind === kind && (name === undefined || x.metadata.name === name));
    assert.ok(o, `a ${kind}${name ? ` ${name}` : ''}`);
    return o;
  };

  before(async () => {
    const kustomization = parseAllDocuments(await readFile(path.join(DIR, 'kustomization.yaml'), 'utf8'))[0].toJSON() as { resources: string[] };
    const files = (await readdir(DIR)).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml').sort();
    assert.deepEqual([...kustomization.resources].sort(), files, 'kustomization.yaml lists every manifest');
    for (const f of files) {
      for (const doc of parseAllDocuments(await readFile(path.join(DIR, f), 'utf8'))) {
        assert.deepEqual(doc.errors, [], f);
        objs.push(doc.toJSON() as K8sObject);
      }
    }
  });

  it('every object validates against its Kubernetes JSON schema', async () => {
    assert.ok(objs.length >= 9);
    for (const o of objs) assert.equal(await schemaErrors(o), null, `${o.kind} ${o.metadata.name}`);
  });

  it('the schema check and the unknown-field check both catch a broken StatefulSet', async () => {
    const d = structuredClone(byKind('StatefulSet')) as K8sObject & {
      spec: { replicas: unknown; template: { spec: { containers: Array<Record<string, unknown>> } } };
    };
    d.spec.replicas = 'three';
    assert.match((await schemaErrors(d)) ?? '', /replicas must be integer/);
    const typo = structuredClone(byKind('StatefulSet')) as typeof d;
    typo.spec.template.spec.containers[0].readinesProbe = { httpGet: { path: '/ready', port: 9464 } };
    assert.match(typeErrors([typo]).join('\n'), /readinesProbe/);
  });

  it('no object carries a field its kind does not have', () => {
    assert.deepEqual(typeErrors(objs), []);
  });

  it('selectors, ports and names refer to what exists', () => {
    const dep = byKind('StatefulSet') as K8sObject & {
      spec: { selector: { matchLabels: Record<string, string> }; template: { metadata: { labels: Record<string, string> }; spec: PodSpec } };
    };
    type PodSpec = {
      containers: Array<{
        ports: Array<{ name: string; containerPort: number }>;
        envFrom: Array<{ secretRef: { name: string } }>;
        readinessProbe: Probe;
        livenessProbe: Probe;
        startupProbe: Probe;
      }>;
      volumes: Array<{ name: string; configMap?: { name: string } }>;
    };
    type Probe = { httpGet: { path: string; port: string } };
    const pod = dep.spec.template.metadata.labels;
    assert.ok(matches(dep.spec.selector.matchLabels, pod));
    const c = dep.spec.template.spec.containers[0];
    const portNames = new Set(c.ports.map((p) => p.name));
    assert.deepEqual([c.readinessProbe.httpGet.path, c.livenessProbe.httpGet.path, c.startupProbe.httpGet.path], ['/ready', '/alive', '/alive']);
    for (const p of [c.readinessProbe, c.livenessProbe, c.startupProbe]) assert.ok(portNames.has(p.httpGet.port));
    assert.equal(c.envFrom[0].secretRef.name, byKind('Secret').metadata.name);
    assert.equal(dep.spec.template.spec.volumes.find((v) => v.configMap)?.configMap?.name, byKind('ConfigMap').metadata.name);
    const svc = byKind('Service', 'phishx') as K8sObject & { spec: { selector: Record<string, string>; ports: Array<{ targetPort: string; name: string }> } };
    assert.ok(matches(svc.spec.selector, pod));
    for (const p of svc.spec.ports) assert.ok(portNames.has(p.targetPort), p.targetPort);
    for (const kind of ['PodDisruptionBudget', 'NetworkPolicy']) {
      const o = byKind(kind) as K8sObject & {
        spec: { selector?: { matchLabels: Record<string, string> }; podSelector?: { matchLabels: Record<string, string> } };
      };
      assert.ok(matches((o.spec.selector ?? o.spec.podSelector)!.matchLabels, pod), kind);
    }
    const sm = byKind('ServiceMonitor') as K8sObject & { spec: { selector: { matchLabels: Record<string, string> }; endpoints: Array<{ port: string }> } };
    assert.ok(matches(sm.spec.selector.matchLabels, svc.metadata.labels ?? {}));
    const scraped = objs.filter((o) => o.kind === 'Service' && matches(sm.spec.selector.matchLabels, o.metadata.labels ?? {}));
    assert.deepEqual(
      scraped.map((o) => o.metadata.name),
      ['phishx'],
      'each pod is scraped once (the headless Service is not selected)',
    );
    assert.ok(svc.spec.ports.some((p) => p.name === sm.spec.endpoints[0].port));
    const hpa = byKind('HorizontalPodAutoscaler') as K8sObject & { spec: { scaleTargetRef: { kind: string; name: string }; minReplicas: number } };
    assert.deepEqual(hpa.spec.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'StatefulSet', name: dep.metadata.name });
    const pdb = byKind('PodDisruptionBudget') as K8sObject & { spec: { minAvailable: number } };
    assert.ok(pdb.spec.minAvailable < hpa.spec.minReplicas, 'a node drain can always evict one pod');
  });

  it('held mail survives the pod: the spool is on a per-pod claim that outlives it, not an emptyDir', async () => {
    type Mount = { name: string; mountPath: string; subPath?: string };
    const sts = byKind('StatefulSet') as K8sObject & {
      spec: {
        serviceName: string;
        selector: { matchLabels: Record<string, string> };
        persistentVolumeClaimRetentionPolicy: { whenDeleted: string; whenScaled: string };
        volumeClaimTemplates: Array<{ metadata: { name: string }; spec: { accessModes: string[] } }>;
        template: { spec: { volumes: Array<{ name: string; emptyDir?: unknown }>; containers: Array<{ volumeMounts: Mount[] }> } };
      };
    };
    const cm = byKind('ConfigMap') as K8sObject & { data: Record<string, string> };
    const dir = await mkdtemp(path.join(os.tmpdir(), 'phishx-k8s-'));
    let spool: string;
    try {
      await mkdir(path.join(dir, 'config'));
      await writeFile(path.join(dir, 'config', 'phishx.ini'), cm.data['phishx.ini']);
      const secret = byKind('Secret') as K8sObject & { stringData: Record<string, string> };
      // Relative paths resolve against the Haraka directory: there, /app (the Dockerfile's WORKDIR).
      const loaded = loadConfigFromDir(dir, { ...secret.stringData }).quarantine.spool_dir;
      spool = path.isAbsolute(path.relative(dir, loaded)) || path.relative(dir, loaded).startsWith('..') ? loaded : path.relative(dir, loaded);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const spoolPath = path.posix.resolve('/app', spool);
    const mounts = sts.spec.template.spec.containers[0].volumeMounts.filter((m) => !m.subPath);
    const holding = mounts
      .filter((m) => spoolPath === m.mountPath || spoolPath.startsWith(`${m.mountPath}/`))
      .sort((a, b) => b.mountPath.length - a.mountPath.length)[0];
    assert.ok(holding, `a volume is mounted over ${spoolPath}`);
    const claims = sts.spec.volumeClaimTemplates.map((t) => t.metadata.name);
    assert.ok(claims.includes(holding.name), `${spoolPath} must be on a volume claim template, is on pod volume ${holding.name}`);
    assert.ok(!sts.spec.template.spec.volumes.some((v) => v.name === holding.name), 'no pod volume shadows the claim');
    assert.deepEqual(sts.spec.persistentVolumeClaimRetentionPolicy, { whenDeleted: 'Retain', whenScaled: 'Retain' });
    const governing = byKind('Service', sts.spec.serviceName) as K8sObject & { spec: { clusterIP: string; selector: Record<string, string> } };
    assert.equal(governing.spec.clusterIP, 'None', 'the governing Service is headless');
    assert.ok(matches(governing.spec.selector, sts.spec.selector.matchLabels));
  });

  it('runs non-root on a read-only root filesystem and shuts down within its grace period', async () => {
    const dep = byKind('StatefulSet') as K8sObject & {
      spec: {
        template: {
          spec: {
            terminationGracePeriodSeconds: number;
            securityContext: { runAsNonRoot: boolean };
            containers: Array<{
              securityContext: { readOnlyRootFilesystem: boolean; allowPrivilegeEscalation: boolean };
              lifecycle: { preStop: { exec: { command: string[] } } };
            }>;
          };
        };
      };
    };
    const spec = dep.spec.template.spec;
    assert.equal(spec.securityContext.runAsNonRoot, true);
    assert.equal(spec.containers[0].securityContext.readOnlyRootFilesystem, true);
    assert.equal(spec.containers[0].securityContext.allowPrivilegeEscalation, false);
    const cm = byKind('ConfigMap') as K8sObject & { data: Record<string, string> };
    const forceS = Number(/force_shutdown_timeout=(\d+)/.exec(cm.data['smtp.ini'])?.[1]);
    assert.match(cm.data['smtp.ini'], /graceful_shutdown=true/);
    const preStopS = Number(spec.containers[0].lifecycle.preStop.exec.command[1]);
    // The ConfigMap's phishx.ini is a valid PhishX configuration (with the Secret's variables).
    const dir = await mkdtemp(path.join(os.tmpdir(), 'phishx-k8s-'));
    try {
      await mkdir(path.join(dir, 'config'));
      await writeFile(path.join(dir, 'config', 'phishx.ini'), cm.data['phishx.ini']);
      const secret = byKind('Secret') as K8sObject & { stringData: Record<string, string> };
      const config = loadConfigFromDir(dir, { ...secret.stringData });
      assert.ok(config.redis.url.startsWith('redis://'));
      // Sessions in flight finish: Haraka waits up to force_shutdown_timeout, longer than a scan may take.
      assert.ok(forceS * 1000 >= config.main.scan_budget_ms + 5000, `force_shutdown_timeout ${forceS} s vs scan budget ${config.main.scan_budget_ms} ms`);
      assert.ok(spec.terminationGracePeriodSeconds >= preStopS + forceS + 5, 'Kubernetes does not kill it before Haraka is done');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
