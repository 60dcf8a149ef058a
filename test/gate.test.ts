/**
 * No tenant can stop the gate (issue #23), over real TLS, both protocols where the transport is
 * involved: tenant regexes run on RE2 (no backtracking); a review past its deadline or over the
 * JSON value limit is answered per failurePolicy as too large to judge while /healthz stays
 * answered; paths that take no body never read one; keys are data (`__proto__`); a DELETE
 * without oldObject is admitted; SIGTERM under keep-alive load resets nothing. Each test asserts
 * what is answered, never how fast (timings are in `npm run bench`, section hostile).
 */
import { connect as tlsConnect } from 'node:tls'
import t from 'tap'
import { type Agent, request } from 'undici'
import { analyzeObjects } from '../src/analyze/analyze.js'
import { type Client, eventually, get, post, review, startTestServer, type TestServer, tlsAgent, virtualService } from './helpers.js'
import { H2Client } from './support/h2.js'
import { crdMaxWorld } from './support/hostile.js'

const gateway = {
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'Gateway',
  metadata: { name: 'shared', namespace: 'infra' },
  spec: { gatewayClassName: 'istio', listeners: [{ name: 'http', port: 80, protocol: 'HTTP', hostname: 'shop.example.com', allowedRoutes: { namespaces: { from: 'All' } } }] },
}
const a40 = `/${'a'.repeat(40)}`
const httpRoute = (ns: string, name: string, rules: unknown[]) => ({
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'HTTPRoute',
  metadata: { name, namespace: ns },
  spec: { parentRefs: [{ name: 'shared', namespace: 'infra' }], hostnames: ['shop.example.com'], rules },
})
/** Tenant A: a regex rule a backtracking engine never finishes on `/a…a` (n = 40), and a PathPrefix `/a…a`. */
const prefixMatch = (headers?: unknown[]) => ({ path: { type: 'PathPrefix', value: a40 }, ...(headers ? { headers } : {}) })
const tenantA = (regexRule: unknown, headers?: unknown[]) => httpRoute('team-a', 'evil', [regexRule, { matches: [prefixMatch(headers)], backendRefs: [{ name: 'a', port: 80 }] }])
/** Tenant B: the same PathPrefix (RG0103); its example request `GET /a…a` meets tenant A's regex rule first. */
const tenantB = (headers?: unknown[]) => httpRoute('team-b', 'victim', [{ matches: [prefixMatch(headers)], backendRefs: [{ name: 'b', port: 80 }] }])

const clients = (s: TestServer): [string, Client][] => [
  ['HTTP/1.1', s.agent],
  ['HTTP/2', new H2Client(s.ca)],
]

t.test('tenant regexes run on RE2: catastrophic-for-backtracking patterns are judged, and /healthz is answered meanwhile', async (t) => {
  const xv = [{ name: 'x-v', value: 'a'.repeat(40) }]
  const shapes: [string, unknown, unknown[] | undefined][] = [
    ['path regex', { matches: [{ path: { type: 'RegularExpression', value: '/(a+)+b' } }], backendRefs: [{ name: 'a', port: 80 }] }, undefined],
    ['header regex', { matches: [{ path: { type: 'PathPrefix', value: '/' }, headers: [{ name: 'x-v', type: 'RegularExpression', value: '(a+)+b' }] }], backendRefs: [{ name: 'a', port: 80 }] }, xv],
  ]
  for (const [what, rule, headers] of shapes) {
    const s = await startTestServer(t)
    for (const o of [gateway, tenantA(rule, headers)]) t.equal((await post(s.agent, `${s.url}/validate`, review(o))).body.response.allowed, true, `${what}: ${o.metadata.name} stored`)
    const victim = tenantB(headers)
    const health = get(s.agent, `${s.url}/healthz`)
    const r = await post(s.agent, `${s.url}/validate`, review(victim, { dryRun: true }))
    t.equal(r.status, 200, `${what}: the other tenant's review is answered`)
    t.equal(r.body.response.allowed, false, `${what}: and denied for the conflict it has (RG0103)`)
    t.match(r.body.response.status.message, /RG0103/)
    t.equal((await health).status, 200, `${what}: /healthz answered`)
  }
  // Istio: an authority regex and a header regex on the mesh host another VirtualService claims (IST0109)
  const s = await startTestServer(t)
  const evil = virtualService('team-a', 'evil', ['reviews.default.svc.cluster.local'], {
    http: [
      { match: [{ authority: { regex: '(a+)+b' } }, { headers: { 'x-v': { regex: '(a+)+b' } } }], route: [{ destination: { host: 'reviews.default.svc.cluster.local' } }] },
      { match: [{ uri: { prefix: a40 } }], route: [{ destination: { host: 'reviews.default.svc.cluster.local' } }] },
    ],
  })
  t.equal((await post(s.agent, `${s.url}/validate`, review(evil))).body.response.allowed, true)
  const other = virtualService('default', 'reviews', ['reviews'], { http: [{ match: [{ uri: { prefix: a40 } }], route: [{ destination: { host: 'reviews' } }] }] })
  const r = await post(s.agent, `${s.url}/validate`, review(other, { dryRun: true }))
  t.equal(r.body.response.allowed, false)
  t.match(r.body.response.status.message, /IST0109/)
  // an expression RE2 refuses is a finding, never run
  const refused = virtualService('team-c', 'lookahead', ['lookahead'], { http: [{ match: [{ uri: { regex: '/(?=admin).*' } }], route: [{ destination: { host: 'lookahead' } }] }] })
  const d = await post(s.agent, `${s.url}/validate`, review(refused, { dryRun: true }))
  t.equal(d.body.response.allowed, false)
  t.match(d.body.response.status.message, /^RG0502: VirtualService team-c\/lookahead spec\.http\[0\]\.match\[0\]\.uri\.regex: regular expression "\/\(\?=admin\)\.\*" is not valid RE2/)
})

t.test('analyze (CI) judges the same tenant regexes', async (t) => {
  const objects = [gateway, tenantA({ matches: [{ path: { type: 'RegularExpression', value: '/(a+)+b' } }], backendRefs: [{ name: 'a', port: 80 }] }), tenantB()].map((object) => ({ object, source: { file: 'x.yaml', line: 1 } }))
  const r = analyzeObjects(objects as any, {})
  t.ok(r.findings.some((f) => f.code === 'RG0103'), 'the conflict is found')
})

t.test('past the review deadline or the JSON value limit: answered per failurePolicy as too large to judge; /healthz answered meanwhile', async (t) => {
  const s = await startTestServer(t, { reviewDeadlineMs: 50 })
  const ignore = await startTestServer(t, { reviewDeadlineMs: 50, config: { policy: { rules: {}, exemptNamespaces: [] }, failurePolicy: 'Ignore' } as any })
  // 950,000 empty matches (2.7 MiB, CRD-valid): over the JSON value limit, never parsed
  const many = virtualService('default', 'many-matches', ['many'], { http: [{ match: Array.from({ length: 950_000 }, () => ({})), route: [{ destination: { host: 'many' } }] }] })
  // 60,000 rules without a match (3 MiB): parsed, then judged past a 50 ms deadline
  const slow = virtualService('default', 'slow', ['slow'], { http: Array.from({ length: 60_000 }, () => ({ route: [{ destination: { host: 'slow' } }] })) })
  const ignoring = clients(ignore)
  for (const [k, [name, c]] of clients(s).entries()) {
    const ic = ignoring[k]![1]
    for (const [what, obj, why] of [['950,000 matches', many, /more than \d+ JSON values/], ['60,000 rules', slow, /review deadline/]] as const) {
      const health = get(c, `${s.url}/healthz`)
      const r = await post(c, `${s.url}/validate`, review(obj))
      t.equal(r.status, 200, `${name} ${what}: answered as an AdmissionReview`)
      t.equal(r.body.response.allowed, false, `${name} ${what}: failurePolicy Fail refuses it`)
      t.equal(r.body.response.status.code, 413)
      t.match(r.body.response.status.message, new RegExp(`VirtualService default/${obj.metadata.name} is too large to judge at admission`))
      t.match(r.body.response.status.message, why)
      t.equal((await health).status, 200, `${name} ${what}: /healthz answered`)
      const m = await post(c, `${s.url}/mutate`, review(obj))
      t.equal(m.status, 200, `${name} ${what}: /mutate answered`)
      const i = await post(ic, `${ignore.url}/validate`, review(obj))
      t.equal(i.body.response.allowed, true, `${name} ${what}: failurePolicy Ignore admits it`)
      t.match(i.body.response.warnings[0], /too large to judge/)
    }
    if (c instanceof H2Client) await c.close()
    if (ic instanceof H2Client) await ic.close()
  }
  t.equal((await post(s.agent, `${s.url}/validate`, review(virtualService('default', 'small', ['small'])))).body.response.allowed, true, 'an ordinary review is judged as before')
})

t.test('the CRD-maximum HTTPRoute on 32 Gateways of 64 listeners each: answered (judged, or too large to judge), /healthz answered meanwhile', async (t) => {
  const s = await startTestServer(t)
  for (const o of crdMaxWorld().gateways) t.equal((await post(s.agent, `${s.url}/validate`, review(o))).status, 200)
  const health = get(s.agent, `${s.url}/healthz`)
  const r = await post(s.agent, `${s.url}/validate`, review(crdMaxWorld().route, { dryRun: true }))
  t.equal(r.status, 200, 'answered as an AdmissionReview')
  if (r.body.response.allowed === false && /too large to judge/.test(r.body.response.status.message)) t.equal(r.body.response.status.code, 413, 'past the deadline: 413 per failurePolicy Fail')
  else t.ok(typeof r.body.response.allowed === 'boolean', 'judged within the deadline')
  t.equal((await health).status, 200)
})

t.test('paths that take no body refuse one before reading it (both protocols)', async (t) => {
  const s = await startTestServer(t)
  const big = Buffer.alloc(7 * 1024 * 1024, 0x20)
  const r = await request(`${s.url}/nope`, { method: 'POST', dispatcher: s.agent as Agent, headers: { 'content-type': 'application/json' }, body: big })
  t.equal(r.statusCode, 404)
  t.equal(r.headers.connection, 'close', 'HTTP/1.1: the connection closes instead of reading the body')
  t.match(JSON.parse(await r.body.text()).message, /no route POST \/nope/)
  const probe = await request(`${s.url}/healthz`, { method: 'POST', dispatcher: s.agent as Agent, headers: { 'content-type': 'application/json' }, body: '{}' }).then(async (x) => ({ status: x.statusCode, text: await x.body.text() }))
  t.equal(probe.status, 404, 'no POST route on a probe path')
  const h2 = new H2Client(s.ca)
  t.teardown(() => h2.close())
  const stream = h2.session(s.url).request({ ':method': 'POST', ':path': '/nope', 'content-type': 'application/json', 'content-length': String(big.length) })
  const res = await new Promise<{ status?: number; rst: number | undefined }>((resolve) => {
    let status: number | undefined
    stream.on('response', (h) => (status = Number(h[':status'])))
    stream.on('error', () => {})
    stream.resume()
    stream.on('close', () => resolve({ status, rst: stream.rstCode }))
    stream.end(big)
  })
  t.equal(res.status, 404, 'HTTP/2: 404, and the stream closed without the body read')
  const agent = tlsAgent(s.ca)
  t.teardown(() => agent.close())
  t.equal((await get(agent, `${s.url}/healthz`)).status, 200)
})

t.test('keys are data: a header match named __proto__ is judged like any other', async (t) => {
  const s = await startTestServer(t)
  const body = JSON.stringify(review(virtualService('default', 'proto', ['proto'], { http: [{ match: [{ headers: { PROTO: { exact: 'x' } } }], route: [{ destination: { host: 'proto' } }] }] }))).replace('"PROTO"', '"__proto__"')
  for (const [name, c] of clients(s)) {
    const r = await post(c, `${s.url}/validate`, body)
    t.equal(r.status, 200, `${name}: answered, not 400`)
    t.equal(r.body.response.allowed, true)
    if (c instanceof H2Client) await c.close()
  }
  t.equal(({} as any).exact, undefined, 'no prototype was touched')
})

t.test('a DELETE review with oldObject null is admitted (and leaves the standalone view)', async (t) => {
  const s = await startTestServer(t)
  const vs = virtualService('default', 'gone', ['gone'])
  t.equal((await post(s.agent, `${s.url}/validate`, review(vs))).body.response.allowed, true)
  const del = review(vs, { operation: 'DELETE' })
  del.request.oldObject = null
  const r = await post(s.agent, `${s.url}/validate`, del)
  t.equal(r.body.response.allowed, true)
  t.equal((await post(s.agent, `${s.url}/validate`, review(virtualService('default', 'again', ['gone'])))).body.response.allowed, true, 'its host is free again')
})

t.test('SIGTERM under keep-alive load (6 HTTP/1.1 clients, 2 HTTP/2 sessions): no request reset', async (t) => {
  const s = await startTestServer(t, { drainDelayMs: 600, shutdownGraceMs: 3000 })
  const body = JSON.stringify(review(virtualService('default', 'drain', ['drain']), { dryRun: true }))
  const failures: string[] = []
  let answered = 0
  let closing = false
  // as the API server: back to back on one connection until told to close it (Connection:
  // close, or GOAWAY); its next connection would go to another replica
  const h1worker = async () => {
    const agent = tlsAgent(s.ca)
    for (;;) {
      try {
        const r = await request(`${s.url}/validate`, { method: 'POST', dispatcher: agent, headers: { 'content-type': 'application/json' }, body })
        await r.body.text()
        if (r.statusCode === 200) answered++
        else failures.push(`HTTP ${r.statusCode}`)
        if (r.headers.connection === 'close') break
      } catch (e) {
        failures.push((e as { code?: string }).code ?? (e as Error).message)
        break
      }
      if (closing) await new Promise((r) => setTimeout(r, 5))
    }
    await agent.close()
  }
  const h2worker = async () => {
    const client = new H2Client(s.ca)
    const session = client.session(s.url)
    let told = false
    session.once('goaway', () => (told = true))
    while (!told) {
      const r = await client.request(`${s.url}/validate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body }).catch((e: Error) => ({ status: 0, text: e.message }))
      if (r.status === 200) answered++
      else failures.push(`h2 ${r.status} ${r.text.slice(0, 60)}`)
    }
    await client.close()
  }
  const workers = [...Array.from({ length: 6 }, h1worker), h2worker(), h2worker()]
  t.ok(await eventually(() => answered > 200), 'load is running')
  closing = true
  await s.close()
  await Promise.all(workers)
  t.same(failures, [], `no request failed or was reset (${answered} answered)`)
})

t.test('SIGTERM with a request that never finishes: closed at the grace', async (t) => {
  const s = await startTestServer(t, { drainDelayMs: 100, shutdownGraceMs: 1000, timeouts: { requestMs: 60_000 } })
  const sock = tlsConnect({ host: '127.0.0.1', port: s.port, ca: s.ca, ALPNProtocols: ['http/1.1'] })
  await new Promise((r) => sock.once('secureConnect', r))
  sock.on('error', () => {})
  sock.write('POST /validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"a":')
  const closed = new Promise((r) => sock.once('close', r))
  await s.close()
  await closed
  t.pass('the server closed, and the stalled connection with it')
})

