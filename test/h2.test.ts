/**
 * HTTP/2 on the webhook port (issue #13): ALPN picks h2 or HTTP/1.1 on one port, and every bound
 * of the hardening work holds for h2 too: request deadline per stream, first-stream deadline per
 * session, idle sessions closed, streams per connection capped, body limit, connection cap,
 * drain on SIGTERM (GOAWAY, no stream reset). Node's http2 client, over real TLS.
 */
import { connect as h2connect, constants, type ClientHttp2Session, type ClientHttp2Stream } from 'node:http2'
import { connect as tlsConnect } from 'node:tls'
import t from 'tap'
import { request } from 'undici'
import { BODY_LIMIT, MAX_CONCURRENT_STREAMS } from '../src/server/app.js'
import { eventually, review, startTestServer, type TestServer, tlsAgent, virtualService } from './helpers.js'
import { H2Client } from './support/h2.js'

/** The ALPN protocol the server picks when the client offers `offer` (false: none agreed). */
function alpn(s: TestServer, offer: string[] | undefined): Promise<string | false> {
  return new Promise((resolve, reject) => {
    const sock = tlsConnect({ host: '127.0.0.1', port: s.port, ca: s.ca, ...(offer ? { ALPNProtocols: offer } : {}) }, () => {
      resolve(sock.alpnProtocol ?? false)
      sock.destroy()
    })
    sock.on('error', reject)
  })
}

function session(s: TestServer): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const c = h2connect(s.url, { ca: s.ca })
    c.once('connect', () => resolve(c))
    c.once('error', reject)
  })
}

/** Sends one POST on `c`; resolves with the status and body, or the stream's close code when reset. */
function post(c: ClientHttp2Session, path: string, body: string | Buffer): Promise<{ status?: number; text: string; rstCode?: number }> {
  return new Promise((resolve) => {
    const stream = c.request({ ':method': 'POST', ':path': path, 'content-type': 'application/json' })
    collect(stream, resolve)
    stream.end(body)
  })
}

function collect(stream: ClientHttp2Stream, resolve: (r: { status?: number; text: string; rstCode?: number }) => void): void {
  let status: number | undefined
  const chunks: Buffer[] = []
  stream.on('response', (h) => (status = Number(h[':status'])))
  stream.on('data', (c: Buffer) => chunks.push(c))
  stream.on('error', () => {})
  stream.on('close', () => resolve({ status, text: Buffer.concat(chunks).toString(), rstCode: stream.rstCode }))
}

const reviewBody = (name: string, host = name) => JSON.stringify(review(virtualService('default', name, [host]), { dryRun: true }))

t.test('one port, two protocols: ALPN h2 when offered, HTTP/1.1 otherwise', async (t) => {
  const s = await startTestServer(t)
  t.equal(await alpn(s, ['h2', 'http/1.1']), 'h2')
  t.equal(await alpn(s, ['http/1.1']), 'http/1.1')
  t.equal(await alpn(s, undefined), false, 'no ALPN: served as HTTP/1.1')
  const c = await session(s)
  t.teardown(() => c.destroy())
  const r = await post(c, '/validate', reviewBody('over-h2'))
  t.equal(r.status, 200)
  t.equal(JSON.parse(r.text).response.allowed, true)
  const agent = tlsAgent(s.ca)
  t.teardown(() => agent.close())
  const h1 = await request(`${s.url}/validate`, { method: 'POST', dispatcher: agent, headers: { 'content-type': 'application/json' }, body: reviewBody('over-h1') })
  t.equal(h1.statusCode, 200)
  t.equal(JSON.parse(await h1.body.text()).response.allowed, true)
  t.equal(c.remoteSettings.maxConcurrentStreams, MAX_CONCURRENT_STREAMS, 'streams per connection are capped in SETTINGS')
})

t.test('h2: a stalled stream is reset at the request deadline; a session with no stream is closed; other streams are served meanwhile', async (t) => {
  const s = await startTestServer(t, { timeouts: { requestMs: 1000, headersMs: 1000, idleMs: 60_000, keepAliveMs: 60_000 } })
  const c = await session(s)
  t.teardown(() => c.destroy())
  // a body that never finishes
  const stalled = new Promise<{ status?: number; text: string; rstCode?: number }>((resolve) => {
    const stream = c.request({ ':method': 'POST', ':path': '/validate', 'content-type': 'application/json', 'content-length': '5000' })
    collect(stream, resolve)
    stream.write('{"apiVersion":')
  })
  // a session that opens no stream at all
  const silent = await session(s)
  const silentClosed = new Promise<void>((resolve) => silent.once('close', () => resolve()))
  const ok = await post(c, '/validate', reviewBody('meanwhile'))
  t.equal(ok.status, 200, 'a normal review on the same connection is answered')
  const r = await stalled
  t.equal(r.status, undefined, 'no answer for the stalled stream')
  t.equal(r.rstCode, constants.NGHTTP2_CANCEL, 'reset by the server with CANCEL')
  await silentClosed
  t.pass('the session that opened no stream was closed by the server')
  const again = await post(c, '/validate', reviewBody('after'))
  t.equal(again.status, 200, 'the connection keeps serving after one of its streams was reset')
})

t.test('h2: an idle session gets GOAWAY after the keep-alive timeout', async (t) => {
  const s = await startTestServer(t, { timeouts: { keepAliveMs: 500 } })
  const c = await session(s)
  t.teardown(() => c.destroy())
  const goaway = new Promise<void>((resolve) => c.once('goaway', () => resolve()))
  t.equal((await post(c, '/validate', reviewBody('then-idle'))).status, 200)
  await goaway
  t.pass('GOAWAY after the session went idle')
})

t.test('h2: bodies over the limit get 413; bad JSON gets 400 with a reason', async (t) => {
  const s = await startTestServer(t)
  const c = await session(s)
  t.teardown(() => c.destroy())
  const big = await post(c, '/validate', Buffer.alloc(BODY_LIMIT + 1024, 0x20))
  t.equal(big.status, 413)
  const bad = await post(c, '/validate', '{"apiVersion":')
  t.equal(bad.status, 400)
  t.match(JSON.parse(bad.text).message, /JSON|Unexpected|Body/i)
  const fine = await post(c, '/validate', reviewBody('fine'))
  t.equal(fine.status, 200, 'still serving')
})

t.test('h2: more streams than the cap at once are all answered (the client queues), none reset', async (t) => {
  const s = await startTestServer(t)
  const c = await session(s)
  t.teardown(() => c.destroy())
  const n = MAX_CONCURRENT_STREAMS * 2
  const rs = await Promise.all(Array.from({ length: n }, (_, i) => post(c, '/validate', reviewBody(`many-${i}`))))
  t.equal(rs.filter((r) => r.status === 200).length, n)
})

t.test('h2: sessions over --max-connections are refused; those within are served', async (t) => {
  const s = await startTestServer(t, { maxConnections: 3 })
  const held = await Promise.all([session(s), session(s), session(s)])
  t.teardown(() => held.forEach((c) => c.destroy()))
  const over = await session(s).then(
    (c) => {
      c.destroy()
      return 'connected'
    },
    (e: { code?: string }) => e.code ?? 'error',
  )
  t.not(over, 'connected', `a fourth connection is refused (${over})`)
  t.equal((await post(held[0]!, '/validate', reviewBody('within'))).status, 200)
})

t.test('h2 SIGTERM under load: zero reset streams, GOAWAY on every session, in-flight streams finish', async (t) => {
  const s = await startTestServer(t, { drainDelayMs: 700, shutdownGraceMs: 5000 })
  const body = reviewBody('drain')
  let answered = 0
  const failures: string[] = []
  let closing = false
  const told: boolean[] = []
  // as the API server: one session, requests back to back (4 streams at a time) until GOAWAY;
  // its next connection would go to another replica (the Service dropped this one at /readyz 503)
  const worker = async (i: number) => {
    const client = new H2Client(s.ca)
    const c = client.session(s.url)
    c.once('goaway', () => (told[i] = true))
    while (!told[i]) {
      const rs = await Promise.all(Array.from({ length: 4 }, () => client.request(`${s.url}/validate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body }).catch((e: Error) => ({ status: 0, text: e.message }))))
      for (const r of rs) {
        if (r.status === 200 && JSON.parse(r.text).response.allowed === true) answered++
        else failures.push(`HTTP ${r.status} ${r.text.slice(0, 80)}`)
      }
      if (i >= 4) while (!closing) await new Promise((r) => setTimeout(r, 10))
    }
    await client.close()
  }
  const workers = Array.from({ length: 6 }, (_, i) => worker(i))
  t.ok(await eventually(() => answered > 200), 'load is running')
  closing = true
  const closed = s.close()
  await Promise.all(workers)
  await closed
  t.same(failures, [], `no stream was reset or failed (${answered} answered)`)
  t.equal(told.filter(Boolean).length, 6, 'every session, busy or idle, got GOAWAY')
})

t.test('review bodies in flight are bounded (both protocols): over the budget, 503 before the body is read; small reviews pass; freed when answered', async (t) => {
  const s = await startTestServer(t, { bodiesInFlightBytes: 1024 * 1024, timeouts: { requestMs: 3000 } })
  const c = await session(s)
  t.teardown(() => c.destroy())
  // an h2 stream announcing 600 KiB that sends it slowly holds 600 KiB of the 1 MiB budget
  const big = 600 * 1024
  const held = c.request({ ':method': 'POST', ':path': '/validate', 'content-type': 'application/json', 'content-length': String(big) })
  const heldDone = new Promise<{ status?: number; text: string; rstCode?: number }>((resolve) => collect(held, resolve))
  held.write('{"apiVersion":')
  await new Promise((r) => setTimeout(r, 200))
  // a second 600 KiB one does not fit: 503 at once, over h2 and over HTTP/1.1
  const second = await new Promise<{ status?: number; text: string }>((resolve) => {
    const st = c.request({ ':method': 'POST', ':path': '/validate', 'content-type': 'application/json', 'content-length': String(big) })
    collect(st, resolve)
    st.end(Buffer.alloc(big, 0x20))
  })
  t.equal(second.status, 503)
  t.match(JSON.parse(second.text).message, /MiB of reviews in flight/)
  const agent = tlsAgent(s.ca)
  t.teardown(() => agent.close())
  const h1 = await request(`${s.url}/validate`, { method: 'POST', dispatcher: agent, headers: { 'content-type': 'application/json' }, body: Buffer.alloc(big, 0x20) })
  t.equal(h1.statusCode, 503, 'HTTP/1.1 too')
  t.equal(h1.headers['retry-after'], '1')
  await h1.body.text()
  // a body without a length is counted as it arrives: 503 once it passes the budget
  const unannounced = await post(c, '/validate', Buffer.alloc(big, 0x20))
  t.equal(unannounced.status, 503, 'no Content-Length: cut off when the bytes received pass the budget')
  t.match(JSON.parse(unannounced.text).message, /would pass the 1.0 MiB budget/)
  // small reviews still fit
  t.equal((await post(c, '/validate', reviewBody('small'))).status, 200)
  // the held stream is answered or cut off (request deadline); its bytes are freed
  held.end(Buffer.alloc(big - '{"apiVersion":'.length, 0x20))
  await heldDone
  const padded = JSON.stringify({ ...JSON.parse(reviewBody('big-after')), padding: 'x'.repeat(big) })
  t.equal((await post(c, '/validate', padded)).status, 200, 'a large review fits again once the first is done')
})
