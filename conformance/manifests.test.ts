/**
 * The deploy manifests (issue #17, item 1): `kubectl kustomize` builds the base and every overlay,
 * and every object it emits validates: built-in kinds against the Kubernetes OpenAPI schemas that
 * kubernetes-models ships, cert-manager's against @kubernetes-models/cert-manager, the
 * prometheus-operator's against their CRDs in ../shared/crds/prometheus-operator (schema and CEL).
 * The README's deploy commands name an overlay that builds and the image tag it uses; and
 * `kubectl-routeguard` on PATH is a kubectl plugin (`kubectl routeguard analyze`).
 * Needs kubectl (with its built-in kustomize) on PATH, as `kubectl apply -k` does.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import t from 'tap'
import { parseAllDocuments } from 'yaml'
import { crdValidator, type CrdValidator } from '../src/crd/validate.js'

const SHARED = process.env.SHARED_DIR ?? '../shared'
const TARGETS = ['manifests/base', ...readdirSync('manifests/overlays').map((d) => `manifests/overlays/${d}`)]

const crds: Record<string, () => CrdValidator> = {
  'monitoring.coreos.com/v1/PrometheusRule': () => crdValidator(join(SHARED, 'crds/prometheus-operator/monitoring.coreos.com_prometheusrules.yaml'), 'v1'),
  'monitoring.coreos.com/v1/ServiceMonitor': () => crdValidator(join(SHARED, 'crds/prometheus-operator/monitoring.coreos.com_servicemonitors.yaml'), 'v1'),
}

interface Obj {
  apiVersion: string
  kind: string
  metadata: { name: string; namespace?: string }
  [k: string]: unknown
}

/** Throws with the schema's message when `o` does not validate. */
async function validate(o: Obj): Promise<void> {
  const key = `${o.apiVersion}/${o.kind}`
  if (crds[key]) {
    const r = crds[key]!()(o)
    if (!r.ok) throw new Error(`${JSON.stringify(r.errors.slice(0, 3))} ${r.cel.join('; ')}`)
    return
  }
  const module = o.apiVersion.includes('cert-manager.io') ? `@kubernetes-models/cert-manager/${o.apiVersion}` : `kubernetes-models/${o.apiVersion}`
  const models = (await import(module)) as Record<string, new (d: unknown) => { validate(): void }>
  const Model = models[o.kind]
  if (!Model) throw new Error(`no schema for ${key}`)
  new Model(o).validate()
}

let kubectl = true
try {
  execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' })
} catch {
  kubectl = false
}

if (!kubectl) {
  t.fail('kubectl not found on PATH: the manifests are built with `kubectl kustomize`')
} else {
  t.test('the validators reject what the API server rejects (so a pass means something)', async (t) => {
    await t.rejects(validate({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' }, spec: { template: { spec: { containers: [{ name: 'a', image: 'b', ports: [{ containerPort: 'https' }] }] } } } }))
    await t.rejects(validate({ apiVersion: 'monitoring.coreos.com/v1', kind: 'PrometheusRule', metadata: { name: 'x' }, spec: { groups: [{ name: 'g', rules: [{ alert: 'A' }] }] } }))
    await t.rejects(validate({ apiVersion: 'cert-manager.io/v1', kind: 'Certificate', metadata: { name: 'x' }, spec: { secretName: 's' } }))
  })

  for (const dir of TARGETS) {
    t.test(`kubectl kustomize ${dir}`, async (t) => {
      const out = execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
      const objs = parseAllDocuments(out).map((d) => d.toJS() as Obj).filter(Boolean)
      t.ok(objs.length > 0, 'emits objects')
      for (const o of objs) {
        await t.resolves(validate(o), `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name} validates`)
        if (o.kind !== 'Namespace' && !o.kind.startsWith('Cluster') && !o.kind.endsWith('WebhookConfiguration')) t.equal(o.metadata.namespace, 'routeguard-system', `${o.kind} ${o.metadata.name} in routeguard-system`)
      }
      for (const image of out.matchAll(/^\s*image: (\S+)$/gm)) t.match(image[1], /^routeguard:\d+\.\d+\.\d+$/, 'every image is tagged by the images: entry')
      if (dir.endsWith('monitoring')) {
        const cm = objs.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'routeguard-dashboard') as Obj & { data: Record<string, string>; metadata: { labels: Record<string, string> } }
        t.equal(cm?.metadata.labels.grafana_dashboard, '1', 'the dashboard ConfigMap is labelled for Grafana\'s sidecar')
        t.ok(JSON.parse(cm.data['routeguard.json']!).panels.length > 5, 'the dashboard JSON parses')
      }
      if (!dir.endsWith('monitoring')) {
        t.ok(objs.some((o) => o.kind === 'Deployment'), 'a Deployment')
        const hooks = objs.filter((o) => o.kind.endsWith('WebhookConfiguration'))
        t.equal(hooks.length, 2, 'both webhook configurations')
        const np = objs.find((o) => o.kind === 'NetworkPolicy') as (Obj & { spec: any }) | undefined
        const cidr = (objs.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('routeguard-network')) as any)?.data?.apiServerCIDR
        t.ok(np && cidr, 'a NetworkPolicy for the webhook port and its apiServerCIDR parameter')
        const webhookRule = np?.spec.ingress.find((r: any) => r.ports.some((p: any) => p.port === 8443))
        t.same(webhookRule?.from, [{ ipBlock: { cidr } }], 'the webhook port admits only the apiServerCIDR')
      }
    })
  }

  t.test('the README deploy section: the overlay it applies builds, with the image it builds', async (t) => {
    const readme = readFileSync('README.md', 'utf8')
    const deploy = readme.slice(readme.indexOf('## Deploy to a cluster'))
    const block = /```sh\n([\s\S]*?)```/.exec(deploy)![1]!
    const tag = /docker build -t (\S+) \./.exec(block)?.[1]
    t.ok(tag, 'docker build -t TAG .')
    const applies = [...block.matchAll(/kubectl apply -k (\S+)/g)].map((m) => m[1]!)
    t.ok(applies.length > 0, 'kubectl apply -k DIR')
    for (const dir of applies) {
      const out = execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8' })
      const images = [...out.matchAll(/^\s*image: (\S+)$/gm)].map((m) => m[1])
      t.ok(images.length > 0 && images.every((i) => i === tag), `${dir}: every container runs ${tag}`)
    }
  })

  t.test('kubectl-routeguard on PATH is a kubectl plugin', async (t) => {
    const bin = mkdtempSync(join(tmpdir(), 'rg-plugin-'))
    symlinkSync(resolve('dist/cli.js'), join(bin, 'kubectl-routeguard'))
    const env = { ...process.env, PATH: `${bin}:${process.env.PATH}` }
    const list = execFileSync('kubectl', ['plugin', 'list'], { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe'] })
    t.match(list, /kubectl-routeguard/)
    t.match(execFileSync('kubectl', ['routeguard', '--version'], { encoding: 'utf8', env }), /^\d+\.\d+\.\d+/)
    let code = 0
    let out = ''
    try {
      execFileSync('kubectl', ['routeguard', 'analyze', '--rules', 'IST0109', 'test/fixtures/rules/ist0109.yaml'], { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe'] })
    } catch (e) {
      code = (e as { status: number }).status
      out = (e as { stdout: string }).stdout
    }
    t.equal(code, 1, 'kubectl routeguard analyze exits as routeguard analyze')
    t.match(out, /Error \[IST0109\]/)
  })
}
