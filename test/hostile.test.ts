/**
 * Safe at the gate (issue #12), over real TLS: one test per way a client could stall, crash or
 * abuse the webhook. Each asserts behaviour: the answer and its verdict, the bounds on what is
 * sent back, what reaches the API server, what the connection sees. None times the server;
 * `npm run bench` (section `hostile`) reports how long each shape takes to decide.
 *
 * "Answered" means answered before the API server would give up: a webhook call is cut after
 * `timeoutSeconds`, at most 30 s (admissionregistration/v1). The shapes here are the 3 MiB
 * design point; before the bounds, several took minutes.
 */
import { connect as netConnect, type Socket } from 'node:net'
import { connect as tlsConnect, type TLSSocket } from 'node:tls'
import { spawn } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { runInNewContext } from 'node:vm'
import { setFlagsFromString } from 'node:v8'
import * as k8s from '@kubernetes/client-node'
import forge from 'node-forge'
import t from 'tap'
import { Agent, request } from 'undici'
import { generateCertificates, writeCertificates } from '../src/certs/certs.js'
import { KIND } from '../src/model/object.js'
import { MAX_WARNINGS_TOTAL } from '../src/admission/response.js'
import { CORE_RESOURCES, FakeApiServer, GATEWAY_API_RESOURCES, ISTIO_RESOURCES } from './fake-apiserver.js'
import { type Client, eventually, freePort, get, post, review, startTestServer, tempDir, tlsAgent, virtualService } from './helpers.js'
import { H2Client } from './support/h2.js'
import { hostileShape, hostileShapeNames } from './support/hostile.js'

/** The longest an API server waits for a webhook (admissionregistration/v1 `timeoutSeconds` maximum). */
const API_SERVER_GIVES_UP_MS = 30_000

/** POST that gives up like the API server does. */
async function postLikeApiServer(agent: Client, url: string, body: unknown) {
  if (agent instanceof H2Client) {
    let timer: NodeJS.Timeout | undefined
    const gaveUp = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('the API server gave up')), API_SERVER_GIVES_UP_MS)))
    try {
      return await Promise.race([post(agent, url, body), gaveUp])
    } finally {
      clearTimeout(timer)
    }
  }
  const res = await request(url, {
    method: 'POST',
    dispatcher: agent,
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    headersTimeout: API_SERVER_GIVES_UP_MS,
    bodyTimeout: API_SERVER_GIVES_UP_MS,
  })
  const text = await res.body.text()
  return { status: res.statusCode, body: JSON.parse(text), text }
}

function warningChars(r: any): number {
  return (r.body.response.warnings ?? []).reduce((n: number, w: string) => n + w.length, 0)
}

t.test('every hostile shape at 3 MiB is answered, with the right verdict or, past the review deadline, per failurePolicy as too large to judge', async (t) => {
  const s = await startTestServer(t)
  for (const name of hostileShapeNames()) {
    const shape = hostileShape(name)
    const r = await postLikeApiServer(s.agent, `${s.url}/validate`, review(shape.object, { dryRun: true }))
    t.equal(r.status, 200, `${shape.name}: answered`)
    const message: string = r.body.response.status?.message ?? ''
    if (/too large to judge/.test(message)) {
      // failurePolicy Fail (the default): refused with 413, naming the object and the deadline
      t.equal(r.body.response.allowed, false, `${shape.name}: past the deadline, refused per failurePolicy Fail`)
      t.equal(r.body.response.status.code, 413)
      t.match(message, /review deadline|JSON values/, `${shape.name}: says which budget it ran out of`)
    } else t.equal(r.body.response.allowed, shape.allowed, `${shape.name}: ${shape.allowed ? 'allowed' : 'denied'}`)
    t.ok(warningChars(r) <= MAX_WARNINGS_TOTAL + 200, `${shape.name}: warnings within the API server's 4 KiB (${warningChars(r)} characters)`)
    t.ok(r.text.length < 16 * 1024, `${shape.name}: the answer is small (${r.text.length} bytes)`)
    const m = await postLikeApiServer(s.agent, `${s.url}/mutate`, review(shape.object, { dryRun: true }))
    t.equal(m.status, 200, `${shape.name}: /mutate answered`)
  }
})

t.test('a flood of warnings never hides a finding that denies, and the deny names the other object', async (t) => {
  // the finding budget, not the deadline, is under test: a deadline no machine reaches
  const s = await startTestServer(t, { reviewDeadlineMs: 120_000 })
  t.equal((await post(s.agent, `${s.url}/validate`, review(virtualService('default', 'owner', ['reviews'])))).body.response.allowed, true)
  // 3 MiB of rules without matches: one IST0130 and one IST0101 per rule, and one IST0109
  const flood = hostileShape('vs-rules-without-match').object as any
  const r = await postLikeApiServer(s.agent, `${s.url}/validate`, review(flood))
  t.equal(r.body.response.allowed, false, 'denied')
  t.match(r.body.response.status.message, /^IST0109: VirtualService default\/no-match and VirtualService default\/owner /)
  t.ok(r.body.response.status.message.length <= 4096)
  t.match(r.body.response.warnings.at(-1), /more warning\(s\) not shown/, 'says how many warnings were left out')
  t.ok(Number(r.body.response.auditAnnotations['findings-cut']) > 10_000, `counts the findings not built (${r.body.response.auditAnnotations['findings-cut']})`)
  t.match(r.body.response.auditAnnotations.findings, /IST0109/)
})

t.test('IST0131 (off at admission) is not evaluated at admission; with the policy on, nested prefixes are still answered', async (t) => {
  const nested = hostileShape('vs-nested-prefixes').object as any
  // prefixes of growing length: every one is covered by all earlier ones (Istio compares all pairs)
  nested.spec.http = Array.from({ length: 2000 }, (_, i) => ({ match: [{ uri: { prefix: `/${'a'.repeat(i)}` } }], route: [{ destination: { host: 'reviews' } }] }))
  const off = await startTestServer(t, { reviewDeadlineMs: 120_000 })
  const a = await postLikeApiServer(off.agent, `${off.url}/validate`, review(nested, { dryRun: true }))
  t.notMatch(a.body.response.auditAnnotations?.findings ?? '', /IST0131/, 'default policy: IST0131 not evaluated')
  const on = await startTestServer(t, { reviewDeadlineMs: 120_000, config: { policy: { rules: { IST0131: 'warn' }, exemptNamespaces: [] }, failurePolicy: 'Fail' } as any })
  const b = await postLikeApiServer(on.agent, `${on.url}/validate`, review(nested, { dryRun: true }))
  t.equal(b.body.response.allowed, true)
  t.match(b.body.response.warnings[0], /^IST0131: VirtualService default\/nested rule #1 match #0 of prefix \/a is not used/)
  t.match(b.body.response.auditAnnotations.findings, /IST0131/)
})

t.test('a 7 MB host and 3 MB names: messages are shortened and say how much was cut; the log stays small', async (t) => {
  const dir = tempDir(t)
  writeCertificates(join(dir, 'certs'), generateCertificates())
  const ca = readFileSync(join(dir, 'certs/ca.crt'))
  const port = await freePort()
  const child = spawn(process.execPath, [join(process.cwd(), 'dist/cli.js'), 'serve', '--port', String(port), '--log-level', 'info'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] })
  let logBytes = 0
  child.stdout!.on('data', (d: Buffer) => (logBytes += d.length))
  child.stderr!.on('data', (d: Buffer) => (logBytes += d.length))
  t.teardown(() => void child.kill('SIGKILL'))
  const agent = tlsAgent(ca)
  const base = `https://127.0.0.1:${port}`
  t.ok(await eventually(() => get(agent, `${base}/readyz`).then((r) => r.status === 200, () => false)), 'ready')
  // as large as a host can be under the 8 MiB body limit
  const host = `${'h'.repeat(7 * 1024 * 1024)}.example.com`
  const route = { http: [{ route: [{ destination: { host: 'reviews' } }] }] }
  t.equal((await post(agent, `${base}/validate`, review(virtualService('default', 'first', [host], route)))).body.response.allowed, true)
  const r = await postLikeApiServer(agent, `${base}/validate`, review(virtualService('default', 'second', [host], route)))
  t.equal(r.body.response.allowed, false, 'the conflict on the huge host is still denied')
  const msg: string = r.body.response.status.message
  t.ok(msg.length <= 4096, `deny message ${msg.length} characters`)
  t.match(msg, /^IST0109: VirtualService default\/second and VirtualService default\/first /)
  t.match(msg, /…\(\d+ characters cut\)…/, 'the host is shortened and says how much was cut')
  const before = logBytes
  // 3 MB names (the request carries the name twice: request.name and metadata.name)
  for (let i = 0; i < 5; i++) {
    const name = `${String(i).repeat(3 * 1024 * 1024)}`
    const res = await postLikeApiServer(agent, `${base}/validate`, review(virtualService('default', name, [`n${i}`]), { dryRun: true }))
    t.equal(res.status, 200)
  }
  await new Promise((resolve) => setTimeout(resolve, 200))
  t.ok(logBytes - before < 64 * 1024, `five reviews with 3 MB names wrote ${logBytes - before} bytes of log`)
  await agent.close()
})

t.test('request.kind and the object must agree: 400 naming both, and nothing is recorded', async (t) => {
  const s = await startTestServer(t)
  const vs = virtualService('default', 'sneaky', ['reviews'])
  const emptyGroup = review(vs)
  emptyGroup.request.kind.group = ''
  const r = await post(s.agent, `${s.url}/validate`, emptyGroup)
  t.equal(r.status, 400)
  t.match(r.body.message, /request\.kind "v1" "VirtualService" and request\.object "networking\.istio\.io\/v1" "VirtualService" disagree/)
  t.equal(s.view.size(), 0, 'the standalone state recorded nothing')
  const otherKind = review(vs)
  otherKind.request.kind.kind = 'DestinationRule'
  t.equal((await post(s.agent, `${s.url}/validate`, otherKind)).status, 400)
  const otherNs = review(vs)
  otherNs.request.namespace = 'kube-system'
  const n = await post(s.agent, `${s.url}/mutate`, otherNs)
  t.equal(n.status, 400)
  t.match(n.body.message, /request\.namespace "kube-system" and request\.object\.metadata\.namespace "default" disagree/)
  t.equal(s.view.size(), 0)
  // a kind no rule is evaluated for is allowed, and not recorded either
  const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: 'default' }, data: {} }
  t.equal((await post(s.agent, `${s.url}/validate`, review(cm))).body.response.allowed, true)
  t.equal(s.view.size(), 0)
  t.equal((await post(s.agent, `${s.url}/validate`, review(vs))).body.response.allowed, true, 'the consistent review is checked and admitted')
  t.equal(s.view.size(KIND.VirtualService), 1)
})

/** `gc()` in a test process started without --expose-gc. */
function gcFunction(): () => void {
  setFlagsFromString('--expose-gc')
  return runInNewContext('gc') as () => void
}

t.test('memory stays flat: distinct 7 MB apiVersions and thousands of distinct kinds; metric labels come from closed sets', async (t) => {
  const gc = gcFunction()
  const s = await startTestServer(t)
  const vs = virtualService('default', 'mem', ['mem'])
  // 7 MB: as large as fits the 8 MiB body limit, so each is read and parsed before it is refused
  const huge = (i: number) => `networking.istio.io/v${String(i).padStart(4, '0')}${'x'.repeat(7 * 1024 * 1024)}`
  // warm up, then the baseline
  for (let i = 0; i < 3; i++) await post(s.agent, `${s.url}/validate`, review(vs, { dryRun: true }))
  gc()
  const baseline = process.memoryUsage().heapUsed
  const statuses = new Set<number>()
  for (let i = 0; i < 10; i++) {
    const mismatched = review(vs, { dryRun: true })
    mismatched.request.object = { ...vs, apiVersion: huge(i) }
    statuses.add((await post(s.agent, `${s.url}/validate`, mismatched)).status)
  }
  t.same([...statuses], [400], 'a 7 MB apiVersion is bad input: 400')
  // distinct kinds (the bench sends 20k and reports RSS): /metrics must not grow with them
  const kinds = async (from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const r = review({ apiVersion: 'example.com/v1', kind: `Kind${i}`, metadata: { name: 'x', namespace: 'default' } }, { dryRun: true })
      const res = await post(s.agent, `${s.url}/validate`, r)
      if (res.status !== 200) t.fail(`kind ${i}: HTTP ${res.status}`)
    }
  }
  await kinds(0, 100)
  const scrapeBefore = (await get(s.agent, `${s.url}/metrics`)).text
  await kinds(100, 3000)
  gc()
  const grown = process.memoryUsage().heapUsed - baseline
  t.ok(grown < 64 * 1024 * 1024, `heap grew by ${Math.round(grown / 1024 / 1024)} MB`)
  const metrics = (await get(s.agent, `${s.url}/metrics`)).text
  const requestSeries = (text: string) => text.split('\n').filter((l) => l.startsWith('routeguard_admission_requests_total{')).length
  t.equal(requestSeries(metrics), requestSeries(scrapeBefore), `no new series for 2,900 more kinds (/metrics ${scrapeBefore.length} → ${metrics.length} bytes)`)
  t.notMatch(metrics, /Kind1234/, 'no label value from a client')
  t.match(metrics, /routeguard_admission_requests_total\{kind="other",operation="CREATE",decision="allowed",dry_run="true",path="\/validate"\} 3000/)
})

t.test('connection flood: sockets over --max-connections are refused before TLS, unfinished handshakes are cut, probes keep answering', async (t) => {
  const s = await startTestServer(t, { maxConnections: 50, timeouts: { handshakeMs: 1000 }, probePort: 0 })
  const sockets: Socket[] = []
  const closedAt: Promise<void>[] = []
  for (let i = 0; i < 300; i++) {
    const sock = netConnect({ host: '127.0.0.1', port: s.port })
    sock.on('error', () => {})
    sockets.push(sock)
    closedAt.push(new Promise((resolve) => sock.on('close', () => resolve())))
  }
  t.teardown(() => sockets.forEach((x) => x.destroy()))
  // probes are answered on the probe port while the webhook port is full
  for (let i = 0; i < 5; i++) {
    const r = await request(`${s.probeUrl}/healthz`)
    t.equal(r.statusCode, 200, 'probe answered during the flood')
    await r.body.text()
  }
  const ready = await request(`${s.probeUrl}/readyz`)
  t.equal(ready.statusCode, 200)
  await ready.body.text()
  // over the cap: closed at once; the rest: closed when the handshake timeout passes
  const all = await Promise.race([Promise.all(closedAt).then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 20_000))])
  t.ok(all, 'every socket that never started TLS was closed by the server')
  const r = await post(s.agent, `${s.url}/validate`, review(virtualService('default', 'after-flood', ['after-flood'])))
  t.equal(r.body.response.allowed, true, 'reviews are answered after the flood')
})

t.test('TLS: 1.3, and 1.2 with ECDHE and AEAD suites only', async (t) => {
  const s = await startTestServer(t)
  const handshake = (opts: Record<string, unknown>) =>
    new Promise<{ ok: boolean; cipher?: string; protocol?: string | null }>((resolve) => {
      const sock: TLSSocket = tlsConnect({ host: '127.0.0.1', port: s.port, ca: s.ca, ...opts }, () => {
        resolve({ ok: true, cipher: sock.getCipher().name, protocol: sock.getProtocol() })
        sock.end()
      })
      sock.on('error', () => resolve({ ok: false }))
    })
  const tls13 = await handshake({})
  t.same([tls13.ok, tls13.protocol], [true, 'TLSv1.3'])
  const gcm = await handshake({ maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' })
  t.same([gcm.ok, gcm.protocol, gcm.cipher], [true, 'TLSv1.2', 'ECDHE-RSA-AES128-GCM-SHA256'])
  for (const weak of ['AES128-SHA', 'AES128-GCM-SHA256', 'ECDHE-RSA-AES128-SHA', 'ECDHE-RSA-AES256-SHA384', 'DHE-RSA-AES128-GCM-SHA256']) {
    t.equal((await handshake({ maxVersion: 'TLSv1.2', ciphers: weak })).ok, false, `${weak} refused`)
  }
  t.equal((await handshake({ maxVersion: 'TLSv1.1', minVersion: 'TLSv1' })).ok, false, 'TLS 1.1 refused')
})

/** A client certificate signed by `ca` (the serving bundle's CA), with extKeyUsage clientAuth. */
function clientCertificate(ca: { caCert: string; caKey: string }): { cert: string; key: string } {
  const keys = forge.pki.rsa.generateKeyPair(2048)
  const cert = forge.pki.createCertificate()
  cert.publicKey = keys.publicKey
  cert.serialNumber = '0a'
  cert.validity.notBefore = new Date(Date.now() - 60_000)
  cert.validity.notAfter = new Date(Date.now() + 3600_000)
  cert.setSubject([{ name: 'commonName', value: 'kube-apiserver' }])
  const caCert = forge.pki.certificateFromPem(ca.caCert)
  cert.setIssuer(caCert.subject.attributes)
  cert.setExtensions([{ name: 'extKeyUsage', clientAuth: true }])
  cert.sign(forge.pki.privateKeyFromPem(ca.caKey) as forge.pki.rsa.PrivateKey, forge.md.sha256.create())
  return { cert: forge.pki.certificateToPem(cert), key: forge.pki.privateKeyToPem(keys.privateKey) }
}

t.test('--client-ca: a client without a certificate from that CA is refused; the API server with one is served', async (t) => {
  const dir = tempDir(t)
  const bundle = generateCertificates()
  writeCertificates(dir, bundle)
  writeFileSync(join(dir, 'client-ca.crt'), bundle.caCert)
  const s = await startTestServer(t, { dir, clientCa: join(dir, 'client-ca.crt'), probePort: 0 })
  const body = review(virtualService('default', 'mtls', ['mtls']), { dryRun: true })
  await t.rejects(post(s.agent, `${s.url}/validate`, body), 'no client certificate: the handshake fails')
  const other = clientCertificate(generateCertificates())
  const stranger = new Agent({ connect: { ca: s.ca, cert: other.cert, key: other.key } })
  await t.rejects(post(stranger, `${s.url}/validate`, body), 'a certificate from another CA: refused')
  const mine = clientCertificate(bundle)
  const apiServer = new Agent({ connect: { ca: s.ca, cert: mine.cert, key: mine.key } })
  t.equal((await post(apiServer, `${s.url}/validate`, body)).body.response.allowed, true)
  const probe = await request(`${s.probeUrl}/readyz`)
  t.equal(probe.statusCode, 200, 'probes need no client certificate on the probe port')
  await probe.body.text()
  await stranger.close()
  await apiServer.close()
})

function kubeConfig(api: FakeApiServer): k8s.KubeConfig {
  const kc = new k8s.KubeConfig()
  kc.loadFromString(JSON.stringify(api.kubeconfig()))
  return kc
}

t.test('/mutate writes nothing on behalf of strangers', async (t) => {
  const api = new FakeApiServer([...CORE_RESOURCES, ...ISTIO_RESOURCES, ...GATEWAY_API_RESOURCES])
  await api.start()
  t.teardown(() => api.stop())
  api.put({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'kube-dns', namespace: 'kube-system' }, spec: { selector: { 'k8s-app': 'kube-dns' }, ports: [{ name: 'dns', port: 53 }] } })
  api.put({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'reviews', namespace: 'default' }, spec: { selector: { app: 'reviews' }, ports: [{ name: 'http', port: 9080 }] } })
  const s = await startTestServer(t, { kubeConfig: kubeConfig(api) })
  t.ok(await eventually(async () => (await get(s.agent, `${s.url}/readyz`)).status === 200 && s.view.size(KIND.Service) === 2))
  const writes = () => api.requests.filter((q) => q.method !== 'GET').length
  const before = writes()
  // a DestinationRule the cluster does not have, opted in, with subsets chosen by the caller
  const fakeDR = (namespace: string, host: string) => ({
    apiVersion: 'networking.istio.io/v1',
    kind: 'DestinationRule',
    metadata: { name: 'evil', namespace, annotations: { 'routeguard.io/subset-services': 'true' } },
    spec: { host, subsets: Array.from({ length: 50 }, (_, i) => ({ name: `x${i}`, labels: { 'k8s-app': 'kube-dns', pwn: String(i) } })) },
  })
  for (const dr of [fakeDR('kube-system', 'kube-dns'), fakeDR('default', 'reviews')]) {
    const r = await post(s.agent, `${s.url}/mutate`, review(dr))
    t.equal(r.body.response.allowed, true)
    t.notOk(r.body.response.patch)
  }
  // a route naming <svc>-<subset> where no DestinationRule in the view defines the subset
  const route = (namespace: string, backend: string, extra: Record<string, unknown> = {}) => ({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: 'r', namespace },
    spec: { parentRefs: [{ group: '', kind: 'Service', name: backend.split('-')[0], port: 53 }], rules: [{ backendRefs: [{ name: backend, port: 53 }] }], ...extra },
  })
  t.equal((await post(s.agent, `${s.url}/mutate`, review(route('kube-system', 'kube-dns-x')))).body.response.allowed, true)
  t.equal(writes(), before, 'no Service write reached the API server')
  t.notOk(api.get('v1', 'Service', 'kube-system', 'kube-dns-x'))

  // with a real DestinationRule in the view, a route that /validate will deny gets nothing either
  api.put({ apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name: 'reviews', namespace: 'default' }, spec: { host: 'reviews', subsets: [{ name: 'v2', labels: { version: 'v2' } }] } })
  t.ok(await eventually(() => s.view.size(KIND.DestinationRule) === 1))
  const first = route('default', 'reviews-v2', { rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/a' } }], backendRefs: [{ name: 'reviews-v2', port: 9080 }] }] })
  first.spec.parentRefs = [{ group: '', kind: 'Service', name: 'reviews', port: 9080 }]
  api.put({ ...first, metadata: { name: 'older', namespace: 'default', creationTimestamp: '2020-01-01T00:00:00Z' } })
  t.ok(await eventually(() => s.view.size(KIND.HTTPRoute) === 1))
  const conflicting = { ...first, metadata: { name: 'newer', namespace: 'default' } }
  const v = await post(s.agent, `${s.url}/validate`, review(conflicting))
  t.equal(v.body.response.allowed, false, '/validate denies the conflicting route (RG0103)')
  const m = await post(s.agent, `${s.url}/mutate`, review(conflicting))
  t.equal(m.body.response.allowed, true, '/mutate leaves the verdict to /validate')
  t.notOk(m.body.response.patch, 'and generates nothing for it')
  t.equal(writes(), before, 'still no write')
  // the legitimate case still works: the generated Service comes from the view
  const ok = await post(s.agent, `${s.url}/mutate`, review({ ...first, metadata: { name: 'fine', namespace: 'default' }, spec: { ...first.spec, rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/b' } }], backendRefs: [{ name: 'reviews-v2', port: 9080 }] }] } }))
  t.ok(ok.body.response.patch, 'a route /validate admits gets its Service')
  t.same((api.get('v1', 'Service', 'default', 'reviews-v2') as any)?.spec.selector, { app: 'reviews', version: 'v2' }, 'selector from the view: parent Service + subset')
  const afterLegit = writes()
  // /validate admits the DestinationRule first: it is pending in the view (judged against),
  // yet only a request vouches for it, so it decides nothing that is written
  for (const dr of [fakeDR('kube-system', 'kube-dns'), fakeDR('default', 'reviews')]) {
    t.equal((await post(s.agent, `${s.url}/validate`, review(dr))).body.response.allowed, true)
    const r = await post(s.agent, `${s.url}/mutate`, review(dr))
    t.notOk(r.body.response.patch)
  }
  t.ok(s.pending!.size >= 2, 'the DestinationRules are pending')
  for (const backend of ['kube-dns-x0', 'kube-dns-x1']) {
    const r = route('kube-system', backend)
    t.equal((await post(s.agent, `${s.url}/validate`, review(r))).body.response.allowed, true)
    t.notOk((await post(s.agent, `${s.url}/mutate`, review(r))).body.response.patch)
  }
  t.equal(writes(), afterLegit, 'no Service write for the pending DestinationRules')
  t.notOk(api.get('v1', 'Service', 'kube-system', 'kube-dns-x0'))
})

t.test('NUL bytes in gateway and host names cannot make two index keys collide (no false RG0101)', async (t) => {
  const s = await startTestServer(t)
  const gw = (name: string, gateways: string[], hosts: string[]) => ({
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: { name, namespace: 'default' },
    spec: { hosts, gateways, http: [{ route: [{ destination: { host: 'reviews' } }] }] },
  })
  t.equal((await post(s.agent, `${s.url}/validate`, review(gw('a', ['ns/a\u0000b'], ['c.example.com'])))).body.response.allowed, true)
  const r = await post(s.agent, `${s.url}/validate`, review(gw('b', ['ns/a'], ['b\u0000c.example.com'])))
  t.equal(r.body.response.allowed, true, 'different gateway and host: no conflict')
  t.notMatch(r.body.response.auditAnnotations?.findings ?? '', /RG0101/)
  const same = await post(s.agent, `${s.url}/validate`, review(gw('c', ['ns/a\u0000b'], ['c.example.com'])))
  t.equal(same.body.response.allowed, false, 'the same gateway and host still conflict')
})

t.test('SIGTERM under keep-alive load: zero reset requests, Connection: close while draining', async (t) => {
  const s = await startTestServer(t, { drainDelayMs: 700, shutdownGraceMs: 5000 })
  const body = JSON.stringify(review(virtualService('default', 'drain', ['drain']), { dryRun: true }))
  let answered = 0
  const failures: string[] = []
  let closing = false
  const told: boolean[] = []
  // A client on a keep-alive connection, as the API server keeps one: requests back to back
  // until an answer says `Connection: close`; then, as with a Service whose endpoint left when
  // /readyz turned 503, its next connection would go to another replica.
  const worker = async (i: number) => {
    const agent = tlsAgent(s.ca)
    for (;;) {
      try {
        const res = await request(`${s.url}/validate`, { method: 'POST', dispatcher: agent, headers: { 'content-type': 'application/json' }, body })
        const text = await res.body.text()
        if (res.statusCode === 200 && JSON.parse(text).response.allowed === true) answered++
        else failures.push(`HTTP ${res.statusCode}`)
        if (res.headers.connection === 'close') {
          told[i] = true
          break
        }
      } catch (e) {
        failures.push(String((e as { cause?: { code?: string } }).cause?.code ?? (e as { code?: string }).code ?? e))
        break
      }
      // the idle clients wait until shutdown has begun, then send one more request
      if (i >= 6) while (!closing) await new Promise((r) => setTimeout(r, 10))
    }
    await agent.close()
  }
  const workers = Array.from({ length: 8 }, (_, i) => worker(i))
  t.ok(await eventually(() => answered > 200), 'load is running')
  closing = true
  const closed = s.close()
  await Promise.all(workers)
  await closed
  t.same(failures, [], `no request was reset or failed (${answered} answered)`)
  t.equal(told.filter(Boolean).length, 8, 'every connection, busy or idle, was told Connection: close')
})
