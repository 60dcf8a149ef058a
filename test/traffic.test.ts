/**
 * Change impact at admission, over real TLS against the loopback API server (issue #25): the
 * `traffic:` warning and audit annotation of an admitted write, RG0106 TrafficTakeover with
 * ownership `oldest` and `explicit` (a config reloaded from its file), and `routeguard diff
 * --kubeconfig` against the same cluster.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import * as k8s from '@kubernetes/client-node'
import t from 'tap'
import { loadConfig } from '../src/config/config.js'
import { FakeApiServer } from './fake-apiserver.js'
import { eventually, get, post, review, runCli, startTestServer, tempDir } from './helpers.js'

const GATEWAY = { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'shared', namespace: 'infra' }, spec: { gatewayClassName: 'istio', listeners: [{ name: 'http', port: 80, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'All' } } }] } }
const route = (ns: string, name: string, path: string, backend: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'HTTPRoute',
  metadata: { name, namespace: ns, generation: 1 },
  spec: { parentRefs: [{ name: 'shared', namespace: 'infra' }], hostnames: ['shop.example.com'], rules: [{ matches: [{ path: { type: 'PathPrefix', value: path } }], backendRefs: [{ name: backend, port: 80 }] }], ...extra },
})
const service = (ns: string, name: string) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns }, spec: { selector: { app: name }, ports: [{ port: 80 }] } })

async function cluster(t: { teardown: (fn: () => void | Promise<void>) => void; ok: (v: any, ...rest: any[]) => boolean }, config: string) {
  const api = new FakeApiServer()
  await api.start()
  t.teardown(() => api.stop())
  for (const o of [GATEWAY, service('team-a', 'shop'), service('team-b', 'checkout'), route('team-a', 'shop', '/', 'shop')]) api.put(o)
  const kc = new k8s.KubeConfig()
  kc.loadFromString(JSON.stringify(api.kubeconfig()))
  const dir = tempDir(t)
  const path = join(dir, 'config.yaml')
  writeFileSync(path, config)
  const s = await startTestServer(t, { kubeConfig: kc, config: loadConfig(path), configPath: path, sync: { watchTimeoutSeconds: 30 } })
  t.ok(await eventually(async () => (await get(s.agent, `${s.url}/readyz`)).status === 200), 'ready')
  t.ok(await eventually(() => s.view.get('gateway.networking.k8s.io/HTTPRoute', 'team-a', 'shop') !== undefined), 'team-a route in view')
  return { api, s, path, dir, kubeconfigFile: writeKubeconfig(dir, api) }
}

function writeKubeconfig(dir: string, api: FakeApiServer): string {
  const f = join(dir, 'kubeconfig.json')
  writeFileSync(f, JSON.stringify(api.kubeconfig()))
  return f
}

/** dryRun by default: an admitted write would be held as pending and be the stored version of the next review */
const validate = async (s: Awaited<ReturnType<typeof startTestServer>>, obj: unknown, o: Record<string, unknown> = { dryRun: true }) => (await post(s.agent, `${s.url}/validate`, review(obj, o))).body.response

t.test('ownership off: admitted with one traffic: warning naming the requests; the audit annotation lists them all', async (t) => {
  const { s } = await cluster(t, 'rules: {}\n')
  const r = await validate(s, route('team-b', 'checkout', '/checkout', 'checkout'), { dryRun: true })
  t.equal(r.allowed, true)
  const traffic = (r.warnings ?? []).filter((w: string) => w.startsWith('traffic: '))
  t.equal(traffic.length, 1, 'one warning')
  t.equal(traffic[0], 'traffic: GET http://shop.example.com/checkout: HTTPRoute team-a/shop rule 0 → HTTPRoute team-b/checkout rule 0; GET http://shop.example.com/checkout/x: HTTPRoute team-a/shop rule 0 → HTTPRoute team-b/checkout rule 0')
  t.same(JSON.parse(r.auditAnnotations.traffic), [
    'GET http://shop.example.com/checkout: HTTPRoute team-a/shop rule 0 → HTTPRoute team-b/checkout rule 0',
    'GET http://shop.example.com/checkout/x: HTTPRoute team-a/shop rule 0 → HTTPRoute team-b/checkout rule 0',
  ])
  // a write that takes nothing from anyone says nothing (requests nobody served are not taken)
  const same = await validate(s, route('team-b', 'other', '/', 'checkout', { hostnames: ['other.example.com'] }), { dryRun: true })
  t.equal(same.allowed, true)
  t.notOk((same.warnings ?? []).some((w: string) => w.startsWith('traffic:')), 'a hostname nobody served')
})

t.test('ownership oldest: RG0106 denies another namespace taking requests on a hostname team-a serves; team-a itself is warned only', async (t) => {
  const { s } = await cluster(t, 'ownership:\n  mode: oldest\n')
  const r = await validate(s, route('team-b', 'checkout', '/checkout', 'checkout'))
  t.equal(r.allowed, false)
  t.equal(
    r.status.message,
    'RG0106: HTTPRoute team-b/checkout takes GET http://shop.example.com/checkout (Gateway infra/shared listener http) from HTTPRoute team-a/shop rule 0 (and 1 more request class): hostname shop.example.com belongs to namespace team-a, not team-b (ownership oldest). Ask team-a to route it, list team-b for the hostname under ownership.hosts in the routeguard config, or add a policy exception for RG0106.',
  )
  const own = await validate(s, route('team-a', 'checkout', '/checkout', 'shop'))
  t.equal(own.allowed, true, 'the owner moves its own requests')
  t.ok((own.warnings ?? []).some((w: string) => w.startsWith('traffic: GET http://shop.example.com/checkout: HTTPRoute team-a/shop rule 0 → HTTPRoute team-a/checkout rule 0')), 'with the traffic warning')
  const elsewhere = await validate(s, route('team-b', 'other', '/', 'checkout', { hostnames: ['other.example.com'] }))
  t.equal(elsewhere.allowed, true, 'a hostname nobody serves takes nothing from anyone')
})

t.test('ownership explicit, reloaded from the file: listed namespaces may take requests, exceptions let RG0106 through', async (t) => {
  const { s, path } = await cluster(t, 'ownership:\n  mode: explicit\n  hosts:\n    - hostname: "*.example.com"\n      namespaces: [team-a]\n')
  const denied = await validate(s, route('team-b', 'checkout', '/checkout', 'checkout'))
  t.equal(denied.allowed, false)
  t.match(denied.status.message, /belongs to namespace team-a, not team-b \(ownership explicit\)/)
  writeFileSync(path, 'ownership:\n  mode: explicit\n  hosts:\n    - hostname: "*.example.com"\n      namespaces: [team-a]\n    - hostname: shop.example.com\n      namespaces: [team-a, team-b]\n')
  t.ok(await eventually(async () => (await validate(s, route('team-b', 'checkout', '/checkout', 'checkout'))).allowed === true), 'the more specific pattern lists team-b once the config reloads')
  writeFileSync(path, 'ownership:\n  mode: explicit\n  hosts:\n    - hostname: "*.example.com"\n      namespaces: [team-a]\nexceptions:\n  - name: checkout-migration\n    codes: [RG0106]\n    namespaces: [team-b]\n')
  t.ok(await eventually(async () => {
    const r = await validate(s, route('team-b', 'checkout', '/checkout', 'checkout'))
    return r.allowed === true && (r.warnings ?? []).some((w: string) => /RG0106.*only warn: policy exception checkout-migration/.test(w))
  }), 'a policy exception turns RG0106 into a warning')
})

t.test('routeguard diff --kubeconfig: the cluster as it is against the cluster with files applied (and --delete)', async (t) => {
  const { dir, kubeconfigFile, api } = await cluster(t, 'rules: {}\n')
  const file = join(dir, 'checkout.yaml')
  writeFileSync(file, 'apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: checkout, namespace: team-b}\nspec:\n  parentRefs: [{name: shared, namespace: infra}]\n  hostnames: [shop.example.com]\n  rules:\n    - matches: [{path: {type: PathPrefix, value: /checkout}}]\n      backendRefs: [{name: checkout, port: 80}]\n')
  const r = await runCli(['diff', '--kubeconfig', kubeconfigFile, file])
  t.equal(r.code, 1, 'requests change: exit 1')
  t.equal(r.stdout, 'GET http://shop.example.com/checkout: HTTPRoute team-a/shop rule 0 → HTTPRoute team-b/checkout rule 0\nGET http://shop.example.com/checkout/x: HTTPRoute team-a/shop rule 0 → HTTPRoute team-b/checkout rule 0\n')
  t.equal(r.stderr, '2 request classes change (4 of 4 evaluated)\n')
  const conf = join(dir, 'own.yaml')
  writeFileSync(conf, 'ownership: {mode: oldest}\n')
  const owned = await runCli(['diff', '--kubeconfig', kubeconfigFile, '--config', conf, '-o', 'json', file])
  t.equal(owned.code, 1)
  const doc = JSON.parse(owned.stdout)
  t.equal(doc.changes.length, 2)
  t.same(doc.changes[0].request, { method: 'GET', url: 'http://shop.example.com/checkout', headers: {} })
  t.equal(doc.changes[0].via, 'Gateway infra/shared listener http')
  t.match(doc.changes[0].before, { status: 200, route: { kind: 'HTTPRoute', namespace: 'team-a', name: 'shop', rule: 0 } })
  t.match(doc.changes[0].after, { status: 200, route: { kind: 'HTTPRoute', namespace: 'team-b', name: 'checkout', rule: 0 }, backends: [{ name: 'checkout' }] })
  t.equal(doc.takeovers[0].code, 'RG0106')
  // applying what the cluster already holds moves nothing; deleting team-a's route does
  api.put({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'checkout', namespace: 'team-b' }, spec: { parentRefs: [{ name: 'shared', namespace: 'infra' }], hostnames: ['shop.example.com'], rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/checkout' } }], backendRefs: [{ name: 'checkout', port: 80 }] }] } })
  const none = await runCli(['diff', '--kubeconfig', kubeconfigFile, file])
  t.equal(none.code, 0, 'nothing changes: exit 0')
  t.equal(none.stdout, '')
  const del = join(dir, 'shop.yaml')
  writeFileSync(del, 'apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: shop, namespace: team-a}\n')
  const removed = await runCli(['diff', '--kubeconfig', kubeconfigFile, '--delete', del, '-o', 'markdown'])
  t.equal(removed.code, 1)
  t.match(removed.stdout, /### shop\.example\.com\n\n\| request \| via \| before \| after \|\n\|---\|---\|---\|---\|\n\| `GET \/` \| Gateway infra\/shared listener http \| HTTPRoute team-a\/shop rule 0: 200 → shop 100% \| no route: 404 \|/)
  const bad = await runCli(['diff', 'only-one'])
  t.equal(bad.code, 2, 'usage: exit 2')
})

t.test('routeguard analyze --config with ownership: RG0106 on the route that holds another namespace\'s requests (CI)', async (t) => {
  const dir = tempDir(t)
  const conf = join(dir, 'config.yaml')
  writeFileSync(conf, 'ownership: {mode: oldest}\n')
  const r = await runCli(['analyze', '--config', conf, 'examples/diff/after'])
  t.equal(r.code, 1, 'an error, as admission would deny')
  t.match(r.stdout, /^Error \[RG0106\] \(HTTPRoute team-b\/checkout examples\/diff\/after\/checkout\.yaml:\d+\) HTTPRoute team-b\/checkout takes GET http:\/\/shop\.example\.com\/checkout \(Gateway infra\/shared listener http\) from HTTPRoute team-a\/shop rule 0/)
  const only = await runCli(['analyze', '--config', conf, '--rules', 'RG0106', 'examples/diff/before'])
  t.equal(only.code, 0, 'before the change: nobody takes anything')
  const without = await runCli(['analyze', 'examples/diff/after', '--rules', 'RG0106'])
  t.equal(without.code, 0, 'no ownership config: RG0106 is off')
})
