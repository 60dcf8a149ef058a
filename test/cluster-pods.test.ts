/**
 * Pods in cluster mode, watched metadata-only (PartialObjectMetadata) against the loopback API
 * server: the Accept headers reach it, the view holds labels and never a body, IST0173 runs at
 * apply time, and a cluster whose RBAC does not grant Pods stays ready with the Pod checks quiet.
 * ConfigMaps likewise (names only), for the BackendTLSPolicies the view watches.
 */
import * as k8s from '@kubernetes/client-node'
import t from 'tap'
import { getJSON } from '../src/cluster/client.js'
import { KIND } from '../src/model/object.js'
import { traceGateway } from '../src/routing/gateway-api.js'
import { FakeApiServer } from './fake-apiserver.js'
import { eventually, get, post, review, startTestServer } from './helpers.js'

function kubeConfig(api: FakeApiServer): k8s.KubeConfig {
  const kc = new k8s.KubeConfig()
  kc.loadFromString(JSON.stringify(api.kubeconfig()))
  return kc
}

const pod = (name: string, version: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'shop', labels: { app: 'orders', version }, annotations: { 'sidecar.istio.io/status': 'x'.repeat(2000) } },
  spec: { nodeName: 'node-1', containers: [{ name: 'c', image: 'orders', env: [{ name: 'PASSWORD', value: 'hunter2' }] }] },
})

const service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'orders', namespace: 'shop' }, spec: { selector: { app: 'orders' }, ports: [{ name: 'http', port: 80 }] } }

const dr = (subset: string) => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'DestinationRule',
  metadata: { name: `orders-${subset}`, namespace: 'shop' },
  spec: { host: 'orders', subsets: [{ name: subset, labels: { version: subset } }] },
})

const validate = async (s: Awaited<ReturnType<typeof startTestServer>>, obj: unknown) =>
  (await post(s.agent, `${s.url}/validate`, review(obj, { dryRun: true }))).body.response

const ist0173 = (r: { warnings?: string[] }) => (r.warnings ?? []).some((w) => w.startsWith('IST0173'))

t.test('Pods are listed and watched as PartialObjectMetadata; IST0173 at apply time', async (t) => {
  const api = new FakeApiServer()
  await api.start()
  t.teardown(() => api.stop())
  api.put(service)
  api.put(pod('orders-v1-abc', 'v1'))
  const s = await startTestServer(t, { kubeConfig: kubeConfig(api), sync: { watchTimeoutSeconds: 30 } })
  t.ok(await eventually(async () => (await get(s.agent, `${s.url}/readyz`)).status === 200))
  t.ok(await eventually(() => s.view.covers(KIND.Pod)), 'the view covers Pods once they have listed')

  const list = api.requests.find((r) => r.path === '/api/v1/pods' && r.query.watch === undefined)
  t.match(list?.accept, /^application\/json;as=PartialObjectMetadataList;g=meta\.k8s\.io;v=v1/, 'the list asks for PartialObjectMetadataList')
  t.ok(await eventually(() => api.requests.find((r) => r.path === '/api/v1/pods' && r.query.watch === 'true')), 'a watch is open')
  const watch = api.requests.find((r) => r.path === '/api/v1/pods' && r.query.watch === 'true')
  t.match(watch?.accept, /^application\/json;as=PartialObjectMetadata;g=meta\.k8s\.io;v=v1/, 'the watch asks for PartialObjectMetadata')

  const held = s.view.get(KIND.Pod, 'shop', 'orders-v1-abc')
  t.same(held?.metadata?.labels, { app: 'orders', version: 'v1' }, 'labels kept')
  t.notOk(held?.spec, 'no spec (env values never reach routeguard)')
  t.notOk(held?.metadata?.annotations, 'no annotations')

  // Secrets: metadata only, data never held
  api.put({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'shop-cert', namespace: 'shop' }, type: 'kubernetes.io/tls', data: { 'tls.key': Buffer.from('private').toString('base64') } })
  t.ok(await eventually(() => s.view.get(KIND.Secret, 'shop', 'shop-cert')), 'the Secret arrives by watch')
  t.same(Object.keys(s.view.get(KIND.Secret, 'shop', 'shop-cert')!).sort(), ['apiVersion', 'kind', 'metadata'], 'no data, no type: metadata only')
  const secretList = api.requests.find((r) => r.path === '/api/v1/secrets' && r.query.watch === undefined)
  t.match(secretList?.accept, /^application\/json;as=PartialObjectMetadataList;g=meta\.k8s\.io;v=v1/, 'Secrets are listed as PartialObjectMetadataList')
  t.match(api.requests.find((r) => r.path === '/api/v1/secrets' && r.query.watch === 'true')?.accept, /as=PartialObjectMetadata;/, 'and watched as PartialObjectMetadata')

  t.notOk(ist0173(await validate(s, dr('v1'))), 'a subset with a Pod: no IST0173')
  const v2 = await validate(s, dr('v2'))
  t.equal(v2.allowed, true, 'IST0173 warns at admission by default')
  t.ok(ist0173(v2), 'a subset without Pods: IST0173 warning')

  api.put(pod('orders-v2-def', 'v2'))
  t.ok(await eventually(async () => !ist0173(await validate(s, dr('v2')))), 'a Pod arriving by watch (as PartialObjectMetadata) selects the subset')
  api.remove('v1', 'Pod', 'shop', 'orders-v2-def')
  t.ok(await eventually(async () => ist0173(await validate(s, dr('v2')))), 'and its DELETE takes it away')
})

t.test('Pods forbidden by RBAC: ready all the same, Pod checks quiet', async (t) => {
  const api = new FakeApiServer()
  await api.start()
  t.teardown(() => api.stop())
  api.put(service)
  api.failNext((r) => r.path === '/api/v1/pods', 403, 1_000_000)
  const s = await startTestServer(t, { kubeConfig: kubeConfig(api) })
  t.ok(await eventually(async () => (await get(s.agent, `${s.url}/readyz`)).status === 200), 'ready without Pods')
  t.ok(await eventually(() => api.requests.some((r) => r.path === '/api/v1/pods')), 'Pods were asked for')
  t.notOk(s.view.covers(KIND.Pod), 'not covered')
  t.notOk(ist0173(await validate(s, dr('v9'))), 'no IST0173 from an absence the view cannot see')
})

t.test('fake API server: metadata-only negotiation as the real one answers it', async (t) => {
  const api = new FakeApiServer()
  await api.start()
  t.teardown(() => api.stop())
  api.put(pod('p', 'v1'))
  const kc = kubeConfig(api)
  const list = (await getJSON(kc, '/api/v1/pods', {}, 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1')) as any
  t.equal(list.kind, 'PartialObjectMetadataList')
  t.equal(list.apiVersion, 'meta.k8s.io/v1')
  t.same(Object.keys(list.items[0]).sort(), ['apiVersion', 'kind', 'metadata'])
  t.equal(list.items[0].kind, 'PartialObjectMetadata')
  const one = (await getJSON(kc, '/api/v1/namespaces/shop/pods/p', {}, 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1')) as any
  t.equal(one.kind, 'PartialObjectMetadata')
  const full = (await getJSON(kc, '/api/v1/pods', {}, 'application/json')) as any
  t.equal(full.kind, 'PodList', 'plain JSON: the full list')
  await t.rejects(getJSON(kc, '/api/v1/pods', {}, 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1'), { code: 406 }, 'the non-List form on a list: 406')
  const fallback = (await getJSON(kc, '/api/v1/pods', {}, 'application/json;as=Table;g=meta.k8s.io;v=v1,application/json')) as any
  t.equal(fallback.kind, 'PodList', 'ranges tried in order: the fallback')
})

t.test('BackendTLSPolicies and their CA ConfigMaps (names only) from the cluster: trace answers 500 while the ConfigMap is missing', async (t) => {
  const api = new FakeApiServer()
  await api.start()
  t.teardown(() => api.stop())
  api.put({ ...service, spec: { selector: { app: 'orders' }, ports: [{ name: 'https', port: 443 }] } })
  api.put({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'gw', namespace: 'shop' }, spec: { gatewayClassName: 'istio', listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }] } })
  api.put({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'orders', namespace: 'shop' }, spec: { parentRefs: [{ name: 'gw' }], hostnames: ['orders.example.com'], rules: [{ backendRefs: [{ name: 'orders', port: 443 }] }] } })
  api.put({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kube-root-ca.crt', namespace: 'shop' }, data: { 'ca.crt': 'PEM' } })
  api.put({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'BackendTLSPolicy',
    metadata: { name: 'orders', namespace: 'shop' },
    spec: { targetRefs: [{ group: '', kind: 'Service', name: 'orders' }], validation: { caCertificateRefs: [{ group: '', kind: 'ConfigMap', name: 'orders-ca' }], hostname: 'orders.shop.internal' } },
  })
  const s = await startTestServer(t, { kubeConfig: kubeConfig(api), sync: { watchTimeoutSeconds: 30 } })
  t.ok(await eventually(async () => (await get(s.agent, `${s.url}/readyz`)).status === 200))
  t.ok(await eventually(() => s.view.covers(KIND.ConfigMap) && s.view.get(KIND.BackendTLSPolicy, 'shop', 'orders') !== undefined), 'policies and ConfigMaps listed')
  t.same(Object.keys(s.view.get(KIND.ConfigMap, 'shop', 'kube-root-ca.crt')!).sort(), ['apiVersion', 'kind', 'metadata'], 'ConfigMaps: metadata only')
  t.match(api.requests.find((r) => r.path === '/api/v1/configmaps' && r.query.watch === undefined)?.accept, /as=PartialObjectMetadataList/)
  const req = { scheme: 'http', host: 'orders.example.com', port: 80, method: 'GET', path: '/', headers: {} }
  const gw = () => s.view.get(KIND.Gateway, 'shop', 'gw')!
  const before = traceGateway(s.view, gw(), req)
  t.equal(before.status, 500, 'the CA ConfigMap is missing: connections fail')
  t.match(before.backends[0]?.invalid, /InvalidCACertificateRef \(ConfigMap shop\/orders-ca not found\)/)
  api.put({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'orders-ca', namespace: 'shop' }, data: { 'ca.crt': 'PEM' } })
  t.ok(await eventually(() => traceGateway(s.view, gw(), req).status === 200), 'the ConfigMap arrives by watch: forwarded')
  const after = traceGateway(s.view, gw(), req)
  t.same(after.backends[0]?.tls, { policy: 'BackendTLSPolicy shop/orders', sni: 'orders.shop.internal' })
  t.equal(after.backendRequest?.sni, 'orders.shop.internal')
})
