/**
 * `routeguard certs --kubeconfig` (issue #17, item 7) against the loopback API server: the CA is
 * kept in a Secret, the serving certificate is issued into routeguard-tls and renewed before it
 * expires (or when it is not the CA's or lacks a SAN), caBundle is written into both webhook
 * configurations, and a run with nothing to do writes nothing.
 */
import { X509Certificate } from 'node:crypto'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as k8s from '@kubernetes/client-node'
import t from 'tap'
import { parseAllDocuments } from 'yaml'
import { generateCertificates } from '../src/certs/certs.js'
import { ensureClusterCertificates, parseRenewBefore } from '../src/certs/cluster-certs.js'
import { ADMISSION_RESOURCES, CORE_RESOURCES, FakeApiServer } from './fake-apiserver.js'
import { runCli } from './helpers.js'

const DAY = 86_400_000

function kubeConfig(api: FakeApiServer): k8s.KubeConfig {
  const kc = new k8s.KubeConfig()
  kc.loadFromString(JSON.stringify(api.kubeconfig()))
  return kc
}

const secretData = (api: FakeApiServer, name: string) => {
  const s = api.get('v1', 'Secret', 'routeguard-system', name) as { data?: Record<string, string>; type?: string } | undefined
  return { type: s?.type, ...Object.fromEntries(Object.entries(s?.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()])) } as Record<string, string | undefined>
}

const writes = (api: FakeApiServer) => api.requests.filter((r) => r.method !== 'GET').length

async function cluster(t: { teardown: (f: () => unknown) => void }): Promise<FakeApiServer> {
  const api = new FakeApiServer([...CORE_RESOURCES, ...ADMISSION_RESOURCES])
  await api.start()
  t.teardown(() => api.stop())
  for (const d of parseAllDocuments(readFileSync('manifests/base/webhooks.yaml', 'utf8')).map((x) => x.toJS())) api.put(d)
  return api
}

t.test('a first run makes the CA and the serving certificate and sets caBundle; a second changes nothing', async (t) => {
  const api = await cluster(t)
  const kc = kubeConfig(api)
  const r = await ensureClusterCertificates(kc)
  t.equal(r.ca, 'created')
  t.equal(r.serving, 'created')
  t.same(r.patched.sort(), ['MutatingWebhookConfiguration/routeguard', 'ValidatingWebhookConfiguration/routeguard'])
  t.ok(r.expiresInSeconds > 364 * 86_400, 'a year')

  const ca = secretData(api, 'routeguard-ca')
  const tls = secretData(api, 'routeguard-tls')
  t.equal(tls.type, 'kubernetes.io/tls')
  const leaf = new X509Certificate(tls['tls.crt']!)
  t.ok(leaf.verify(new X509Certificate(ca['ca.crt']!).publicKey), 'signed by the CA in routeguard-ca')
  t.equal(tls['ca.crt'], ca['ca.crt'])
  for (const n of ['routeguard.routeguard-system.svc', 'routeguard.routeguard-system.svc.cluster.local']) t.equal(leaf.checkHost(n), n)
  t.ok(tls['tls.key']?.includes('PRIVATE KEY'))
  for (const kind of ['ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration']) {
    const cfg = api.get('admissionregistration.k8s.io/v1', kind, undefined, 'routeguard') as unknown as { webhooks: { clientConfig: { caBundle: string } }[] }
    for (const w of cfg.webhooks) t.equal(Buffer.from(w.clientConfig.caBundle, 'base64').toString(), ca['ca.crt'], `${kind} caBundle is the CA`)
  }

  const before = writes(api)
  const again = await ensureClusterCertificates(kc)
  t.same({ ca: again.ca, serving: again.serving, patched: again.patched }, { ca: 'kept', serving: 'kept', patched: [] })
  t.equal(writes(api), before, 'nothing written when nothing is due')
})

t.test('renewed before expiry, with the same CA; renewed when not the CA\'s or a SAN is missing', async (t) => {
  const api = await cluster(t)
  const kc = kubeConfig(api)
  await ensureClusterCertificates(kc)
  const first = secretData(api, 'routeguard-tls')

  const in300 = await ensureClusterCertificates(kc, { now: () => Date.now() + 300 * DAY })
  t.equal(in300.serving, 'kept', 'not yet: 65 days left, renewal at 60')
  const in310 = await ensureClusterCertificates(kc, { now: () => Date.now() + 310 * DAY })
  t.equal(in310.serving, 'renewed')
  t.match(in310.reason, /expires in \d+ day/)
  t.equal(in310.ca, 'kept')
  t.same(in310.patched, [], 'the CA did not change, so neither does caBundle')
  const renewed = secretData(api, 'routeguard-tls')
  t.not(renewed['tls.crt'], first['tls.crt'])
  t.equal(renewed['ca.crt'], first['ca.crt'])

  const other = generateCertificates()
  api.put({ apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/tls', metadata: { name: 'routeguard-tls', namespace: 'routeguard-system' }, data: { 'tls.crt': Buffer.from(other.cert).toString('base64'), 'tls.key': Buffer.from(other.key).toString('base64') } })
  const foreign = await ensureClusterCertificates(kc)
  t.equal(foreign.serving, 'renewed')
  t.match(foreign.reason, /not signed by the CA/)

  const wrongName = await ensureClusterCertificates(kc, { service: 'rg' })
  t.match(wrongName.reason, /lacks rg, rg\.routeguard-system/)
})

t.test('API errors name the object and the status', async (t) => {
  const api = await cluster(t)
  api.failNext((r) => r.method === 'POST' && r.path.endsWith('/secrets'), 403)
  await t.rejects(ensureClusterCertificates(kubeConfig(api)), /creating Secret routeguard-system\/routeguard-ca: HTTP 403/)
  api.put({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'routeguard-ca', namespace: 'routeguard-system' }, data: { other: 'eA==' } })
  await t.rejects(ensureClusterCertificates(kubeConfig(api)), /has no ca\.crt and ca\.key: delete it/)
})

t.test('missing webhook configurations are reported, not fatal', async (t) => {
  const api = new FakeApiServer([...CORE_RESOURCES, ...ADMISSION_RESOURCES])
  await api.start()
  t.teardown(() => api.stop())
  const r = await ensureClusterCertificates(kubeConfig(api))
  t.same(r.missing.sort(), ['MutatingWebhookConfiguration/routeguard', 'ValidatingWebhookConfiguration/routeguard'])
  t.equal(r.serving, 'created')
})

t.test('--renew-before durations', async (t) => {
  t.equal(parseRenewBefore('60d'), 60 * DAY)
  t.equal(parseRenewBefore('720h'), 30 * DAY)
  t.equal(parseRenewBefore('90m'), 90 * 60_000)
  t.equal(parseRenewBefore('7'), 7 * DAY)
  t.throws(() => parseRenewBefore('1w'), /not a duration/)
})

t.test('the command line: routeguard certs --kubeconfig prints what it did; exit 1 on API errors', async (t) => {
  const api = await cluster(t)
  const dir = mkdtempSync(join(tmpdir(), 'rg-certs-'))
  const kubeconfig = join(dir, 'kubeconfig')
  writeFileSync(kubeconfig, JSON.stringify(api.kubeconfig()))
  // in-process: the command awaits the fake API server, which lives in this process too
  const run = (args: string[]) => runCli(['certs', ...args])
  const ok = await run(['--kubeconfig', kubeconfig])
  t.equal(ok.code, 0, ok.stderr)
  const line = JSON.parse(ok.stdout)
  t.match(line, { msg: 'certificates checked', ca: 'created', serving: 'created' })
  t.equal((await run(['--kubeconfig', kubeconfig, '--renew-before', 'soon'])).code, 2, 'usage error')
  api.failNext((r) => r.method === 'GET' && r.path.endsWith('/secrets/routeguard-ca'), 403)
  const denied = await run(['--kubeconfig', kubeconfig])
  t.equal(denied.code, 1)
  t.match(denied.stderr, /reading Secret routeguard-system\/routeguard-ca: HTTP 403/)
})
