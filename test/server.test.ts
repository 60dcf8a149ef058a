/**
 * The webhook end to end over real TLS (the chain verified against certs' ca.crt): the
 * acceptance run of the server issue, bad input, dryRun, probes, metrics, cert rotation.
 */
import { copyFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { connect, type PeerCertificate } from 'node:tls'
import t from 'tap'
import { generateCertificates } from '../src/certs/certs.js'
import { get, post, review, startTestServer, virtualService } from './helpers.js'

t.test('IST0109 acceptance: reviews admitted, reviews-conflict denied, dryRun records nothing', async (t) => {
  const s = await startTestServer(t)
  t.equal((await get(s.agent, `${s.url}/readyz`)).status, 200, 'ready once listening')

  const first = review(virtualService('default', 'reviews', ['reviews']))
  const r1 = await post(s.agent, `${s.url}/validate`, first)
  t.equal(r1.status, 200)
  t.equal(r1.body.apiVersion, 'admission.k8s.io/v1')
  t.equal(r1.body.kind, 'AdmissionReview')
  t.equal(r1.body.response.uid, first.request.uid, 'response.uid echoes request.uid')
  t.equal(r1.body.response.allowed, true)

  const second = review(virtualService('default', 'reviews-conflict', ['reviews']))
  const r2 = await post(s.agent, `${s.url}/validate`, second)
  t.equal(r2.body.response.uid, second.request.uid)
  t.equal(r2.body.response.allowed, false)
  t.equal(r2.body.response.status.code, 403)
  t.equal(r2.body.response.status.reason, 'Forbidden')
  t.match(r2.body.response.status.message, /^IST0109: /)
  t.match(r2.body.response.status.message, /VirtualService default\/reviews\b/)
  t.match(r2.body.response.status.message, /reviews\.default\.svc\.cluster\.local/, 'names the host')
  t.same(r2.body.response.auditAnnotations, { findings: 'IST0109' })

  // dryRun: the verdict is given but nothing is recorded
  const dry = review(virtualService('default', 'ratings-dry', ['ratings']), { dryRun: true })
  const r3 = await post(s.agent, `${s.url}/validate`, dry)
  t.equal(r3.body.response.allowed, true, 'dryRun verdict given')
  const real = review(virtualService('default', 'ratings-real', ['ratings']))
  const r4 = await post(s.agent, `${s.url}/validate`, real)
  t.equal(r4.body.response.allowed, true, 'a later real CREATE for the same host is allowed: dryRun recorded nothing')
  const again = review(virtualService('default', 'ratings-again', ['ratings']), { dryRun: true })
  const r5 = await post(s.agent, `${s.url}/validate`, again)
  t.equal(r5.body.response.allowed, false, 'dryRun gets the same verdict a real request would')
  t.match(r5.body.response.status.message, /VirtualService default\/ratings-real/)
})

t.test('UPDATE replaces the old version; DELETE frees the host', async (t) => {
  const s = await startTestServer(t)
  const a = virtualService('shop', 'cart', ['cart'])
  t.equal((await post(s.agent, `${s.url}/validate`, review(a))).body.response.allowed, true)
  const upd = review(virtualService('shop', 'cart', ['cart', 'cart-v2']), { operation: 'UPDATE', oldObject: a })
  t.equal((await post(s.agent, `${s.url}/validate`, upd)).body.response.allowed, true, 'an UPDATE does not conflict with its own old version')
  const clash = review(virtualService('shop', 'other', ['cart-v2']))
  t.equal((await post(s.agent, `${s.url}/validate`, clash)).body.response.allowed, false, 'the updated host is claimed')
  const del = review(virtualService('shop', 'cart', ['cart', 'cart-v2']), { operation: 'DELETE' })
  const rd = await post(s.agent, `${s.url}/validate`, del)
  t.equal(rd.body.response.allowed, true, 'DELETE is allowed')
  t.equal((await post(s.agent, `${s.url}/validate`, clash)).body.response.allowed, true, 'after DELETE the host is free')
})

t.test('state files seed the view', async (t) => {
  const s = await startTestServer(t, { state: ['test/fixtures/state-reviews.yaml'] })
  t.equal(s.view.size(), 2, 'the VirtualService and DestinationRule in the state file')
  const r = await post(s.agent, `${s.url}/validate`, review(virtualService('default', 'my-reviews', ['reviews'])))
  t.equal(r.body.response.allowed, false)
  t.match(r.body.response.status.message, /VirtualService default\/reviews\b/)
})

t.test('warnings: one per finding, the missing names first, each at most 256 characters, the whole texts in the audit annotation', async (t) => {
  const s = await startTestServer(t)
  const host = 'ratings.a-namespace-with-a-rather-long-name-for-this-team.svc.cluster.local'
  const vs = virtualService('default', 'ratings-split', [host], {
    http: [{ route: [{ destination: { host, subset: 'v7' }, weight: 50 }, { destination: { host, subset: 'v8' }, weight: 50 }] }],
  })
  const r = await post(s.agent, `${s.url}/validate`, review(vs))
  t.equal(r.body.response.allowed, true, 'IST0101 warns by default')
  const ist0101 = r.body.response.warnings.filter((w: string) => w.startsWith('IST0101: '))
  t.equal(ist0101.length, 2, 'two missing subsets: two warnings, not merged')
  t.match(ist0101[0], /^IST0101: VirtualService default\/ratings-split: subset v7 of ratings\.a-namespace/)
  t.match(ist0101[1], /^IST0101: VirtualService default\/ratings-split: subset v8 of /)
  t.ok(r.body.response.warnings.every((w: string) => w.length <= 256), 'each within the API server\'s 256 characters')
  const full = JSON.parse(r.body.response.auditAnnotations.warnings)
  t.ok(full.some((m: string) => m.includes(`subset v8 of ${host}`)), 'the whole text in the warnings audit annotation')
})

t.test('warnings: IST0130 is returned as a warning, each at most 256 characters', async (t) => {
  const s = await startTestServer(t)
  const vs = virtualService('default', 'twice', ['twice'], {
    http: [{ route: [{ destination: { host: 'a' } }] }, { route: [{ destination: { host: 'b' } }] }],
  })
  const r = await post(s.agent, `${s.url}/validate`, review(vs))
  t.equal(r.body.response.allowed, true)
  t.equal(r.body.response.warnings.length, 1)
  t.match(r.body.response.warnings[0], /^IST0130: /)
  t.ok(r.body.response.warnings.every((w: string) => w.length <= 256))
})

t.test('bad input gets a 4xx with a reason and the server keeps serving', async (t) => {
  const s = await startTestServer(t)
  const url = `${s.url}/validate`
  const cases: [string, unknown, string | undefined, number, RegExp][] = [
    ['invalid JSON', '{"apiVersion": "admission.k8s.io/v1", ', undefined, 400, /JSON|Unexpected|body/i],
    ['missing request.uid', { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { kind: { kind: 'VirtualService' }, operation: 'CREATE' } }, undefined, 400, /uid/],
    ['wrong apiVersion', { ...review(virtualService('a', 'b', ['c'])), apiVersion: 'admission.k8s.io/v1beta1' }, undefined, 400, /apiVersion/],
    ['wrong kind', { ...review(virtualService('a', 'b', ['c'])), kind: 'Review' }, undefined, 400, /kind/],
    ['not an object', '[1,2,3]', undefined, 400, /object/],
    ['non-JSON content type', 'hello', 'text/plain', 415, /Unsupported Media Type|content-type/i],
    ['body over 8 MiB', JSON.stringify({ pad: 'x'.repeat(8 * 1024 * 1024 + 10) }), undefined, 413, /too large/i],
  ]
  for (const [name, body, type, status, reason] of cases) {
    const r = await post(s.agent, url, body, type)
    t.equal(r.status, status, `${name} → ${status}`)
    t.match(r.body?.message ?? '', reason, `${name}: the body says what is wrong`)
    t.equal((await get(s.agent, `${s.url}/healthz`)).status, 200, `${name}: still serving`)
  }
})

t.test('objects we cannot read are answered per failure policy; unknown kinds and DELETE/CONNECT are allowed', async (t) => {
  const s = await startTestServer(t)
  const broken = review(virtualService('a', 'b', ['c']))
  broken.request.object = 'not an object'
  const r = await post(s.agent, `${s.url}/validate`, broken)
  t.equal(r.status, 200)
  t.equal(r.body.response.allowed, false, 'Fail: denied')
  t.match(r.body.response.status.message, /cannot read the object under review: request.object is not a JSON object/)

  const weird = review({ apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'w', namespace: 'x' }, spec: { hosts: 'not-a-list', http: 7 } })
  t.equal((await post(s.agent, `${s.url}/validate`, weird)).body.response.allowed, true, 'wrong field types read as absent, no crash')

  const cm = review({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: 'y' } })
  const rc = await post(s.agent, `${s.url}/validate`, cm)
  t.equal(rc.body.response.allowed, true)
  t.notOk(rc.body.response.warnings)
  const connectReview = review(virtualService('a', 'b', ['c']), { operation: 'CONNECT' })
  t.equal((await post(s.agent, `${s.url}/validate`, connectReview)).body.response.allowed, true)
})

t.test('failurePolicy Ignore admits unreadable objects with a warning', async (t) => {
  const s = await startTestServer(t, { config: { policy: { rules: {}, exemptNamespaces: [] }, failurePolicy: 'Ignore' } })
  const broken = review(virtualService('a', 'b', ['c']))
  broken.request.object = 42
  const r = await post(s.agent, `${s.url}/validate`, broken)
  t.equal(r.body.response.allowed, true)
  t.match(r.body.response.warnings[0], /cannot read the object/)
})

t.test('policy: rules can be set to warn or off, namespaces exempted', async (t) => {
  const s = await startTestServer(t, { config: { policy: { rules: { IST0109: 'warn' }, exemptNamespaces: ['sandbox'] }, failurePolicy: 'Fail' } })
  await post(s.agent, `${s.url}/validate`, review(virtualService('default', 'one', ['x'])))
  const r = await post(s.agent, `${s.url}/validate`, review(virtualService('default', 'two', ['x'])))
  t.equal(r.body.response.allowed, true, 'warn does not deny')
  t.match(r.body.response.warnings[0], /^IST0109: /)
  await post(s.agent, `${s.url}/validate`, review(virtualService('sandbox', 'one', ['y'], { exportTo: ['.'] })))
  const e = await post(s.agent, `${s.url}/validate`, review(virtualService('sandbox', 'two', ['y'], { exportTo: ['.'] })))
  t.equal(e.body.response.allowed, true)
  t.notOk(e.body.response.warnings, 'exempt namespace: no findings at all')
})

t.test('/mutate answers an AdmissionReview (no patch when nothing changes)', async (t) => {
  const s = await startTestServer(t)
  const rv = review(virtualService('default', 'm', ['m']))
  const r = await post(s.agent, `${s.url}/mutate`, rv)
  t.equal(r.status, 200)
  t.equal(r.body.response.uid, rv.request.uid)
  t.equal(r.body.response.allowed, true)
  t.notOk(r.body.response.patch)
})

t.test('/metrics exposes routeguard_ metrics', async (t) => {
  const s = await startTestServer(t)
  await post(s.agent, `${s.url}/validate`, review(virtualService('default', 'a', ['h'])))
  await post(s.agent, `${s.url}/validate`, review(virtualService('default', 'b', ['h'])))
  await post(s.agent, `${s.url}/validate`, review(virtualService('default', 'c', ['h']), { dryRun: true }))
  const m = await get(s.agent, `${s.url}/metrics`)
  t.equal(m.status, 200)
  t.match(m.text, /routeguard_admission_requests_total\{kind="VirtualService",operation="CREATE",decision="denied",dry_run="false",path="\/validate"\} 1/)
  t.match(m.text, /routeguard_admission_requests_total\{kind="VirtualService",operation="CREATE",decision="denied",dry_run="true",path="\/validate"\} 1/)
  t.match(m.text, /routeguard_admission_duration_seconds_bucket\{le="0.00025",path="\/validate"\}/)
  t.match(m.text, /routeguard_admission_duration_seconds_bucket\{le="10",path="\/validate"\}/)
  t.match(m.text, /routeguard_findings_total\{code="IST0109",action="deny"\} 1/, 'dryRun findings are not recorded')
  t.match(m.text, /routeguard_view_objects\{kind="networking.istio.io\/VirtualService"\} 1/)
  for (const line of m.text.split('\n')) {
    if (line && !line.startsWith('#')) t.ok(line.startsWith('routeguard_'), `prefixed: ${line.slice(0, 40)}`)
  }
})

t.test('TLS: 1.2+ only, and a certificate rotated on disk is served to new connections without restart', async (t) => {
  const s = await startTestServer(t)
  const peer = (ca: Buffer) =>
    new Promise<PeerCertificate & { alpn: string | false | null }>((resolve, reject) => {
      const sock = connect({ host: '127.0.0.1', port: s.port, ca, servername: 'localhost', ALPNProtocols: ['h2', 'http/1.1'] }, () => {
        resolve({ ...sock.getPeerCertificate(), alpn: sock.alpnProtocol })
        sock.end()
      })
      sock.on('error', reject)
    })
  const old = await peer(s.ca)
  t.equal(old.alpn, 'h2', 'HTTP/2 offered by ALPN')
  await t.rejects(
    new Promise((resolve, reject) => {
      const sock = connect({ host: '127.0.0.1', port: s.port, ca: s.ca, maxVersion: 'TLSv1.1', minVersion: 'TLSv1' }, () => resolve(sock))
      sock.on('error', reject)
    }),
    'TLS 1.1 is refused',
  )
  const expiry = async () => Number(/^routeguard_certificate_expiry_seconds (-?\d+)$/m.exec((await get(s.agent, `${s.url}/metrics`)).text)?.[1])
  const before = await expiry()
  t.ok(before > 360 * 86_400 && before <= 366 * 86_400, `routeguard_certificate_expiry_seconds: about a year (${before} s)`)
  // rotate as a mounted Secret does: write new files elsewhere, then rename into place
  const next = generateCertificates({ days: 30 })
  writeFileSync(join(s.dir, 'tls.crt.new'), next.cert)
  writeFileSync(join(s.dir, 'tls.key.new'), next.key)
  renameSync(join(s.dir, 'tls.key.new'), join(s.dir, 'tls.key'))
  renameSync(join(s.dir, 'tls.crt.new'), join(s.dir, 'tls.crt'))
  const newCa = Buffer.from(next.caCert)
  let rotated: (PeerCertificate & { alpn: string | false | null }) | undefined
  for (let i = 0; i < 50 && !rotated; i++) {
    await new Promise((r) => setTimeout(r, 100))
    rotated = await peer(newCa).catch(() => undefined)
  }
  t.ok(rotated, 'a new connection verifies against the new CA')
  t.not(rotated?.fingerprint256, old.fingerprint256, 'a different certificate is served')
  t.equal(rotated?.alpn, 'h2', 'and HTTP/2 still offered after the reload')
  const after = await expiry()
  t.ok(after > 29 * 86_400 && after <= 30 * 86_400 + 600, `the gauge follows the reloaded certificate (${after} s)`)
  void copyFileSync
})

t.test('the answer schema keeps every field Response.toReview can set (unit, inject)', async (t) => {
  const { default: Fastify } = await import('fastify')
  const { Response } = await import('../src/admission/response.js')
  const { admissionReviewResponseSchema } = await import('../src/admission/review.js')
  const variants = {
    allowed: Response.allowed(),
    allowedWithMessage: Response.allowed('fine'),
    warned: Response.allowed().withWarnings('RG0205: backend "x" not found', 'ünïcödé \u2028 "quoted"').withAuditAnnotations({ findings: 'RG0205', other: 'a,b' }),
    denied: Response.denied('IST0109: host taken\nsecond line').withWarnings('w').withAuditAnnotations({ findings: 'IST0109' }),
    patched: Response.patched([{ op: 'add', path: '/metadata/labels', value: { a: 'b' } }], 'patched').withWarnings('generated'),
    errored: Response.errored(500, 'routeguard: internal error'),
    badRequest: Response.errored(400, 'cannot read'),
  }
  const app = Fastify()
  app.get<{ Params: { name: keyof typeof variants } }>('/:name', { schema: { response: { 200: admissionReviewResponseSchema } } }, async (req) => variants[req.params.name].toReview('uid-1'))
  for (const [name, r] of Object.entries(variants)) {
    const res = await app.inject({ method: 'GET', url: `/${name}` })
    t.equal(res.statusCode, 200, name)
    t.same(JSON.parse(res.body), JSON.parse(JSON.stringify(r.toReview('uid-1'))), `${name}: every field kept`)
  }
  await app.close()
})

t.test('standalone: a second HTTPRoute with the same match on one Gateway is denied with RG0103, not an internal error', async (t) => {
  const s = await startTestServer(t)
  const gw = { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'gw', namespace: 'default' }, spec: { gatewayClassName: 'istio', listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }] } }
  const route = (name: string) => ({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name, namespace: 'default' },
    spec: { parentRefs: [{ name: 'gw' }], rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/a' } }], backendRefs: [{ name: 'svc', port: 80 }] }] },
  })
  t.equal((await post(s.agent, `${s.url}/validate`, review(gw))).body.response.allowed, true)
  t.equal((await post(s.agent, `${s.url}/validate`, review(route('first')))).body.response.allowed, true)
  // the rules ask for the stored route's facts between two questions about the new one: its
  // facts (and the parentRefs analysis passes key by) must stay the same objects
  const r = await post(s.agent, `${s.url}/validate`, review(route('second')))
  t.equal(r.body.response.allowed, false)
  t.equal(r.body.response.status.code, 403)
  t.match(r.body.response.status.message, /^RG0103: HTTPRoute default\/second .*HTTPRoute default\/first/)
})
