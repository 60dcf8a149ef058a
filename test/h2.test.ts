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
import { eventually, get, review, startTestServer, type TestServer, tlsAgent, virtualService } from './helpers.js'
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

t.test('review bodies in flight are bounded by the bytes that arrived (both protocols): announcing costs nothing, one connection holds a quarter, small reviews pass, freed when answered', async (t) => {
  const budget = 2 * 1024 * 1024
  // the held requests below must outlast the whole test, however loaded the machine: a request
  // timeout far beyond it (the test never waits for it)
  const s = await startTestServer(t, { bodiesInFlightBytes: budget, timeouts: { requestMs: 600_000 } })
  const agent = tlsAgent(s.ca)
  t.teardown(() => agent.close())
  const h1 = (body: string | Buffer) => request(`${s.url}/validate`, { method: 'POST', dispatcher: agent, headers: { 'content-type': 'application/json' }, body })
  // 8 HEADERS frames on one session and 8 TLS sockets announcing 8 MiB each and sending nothing
  const announcer = await session(s)
  t.teardown(() => announcer.destroy())
  const announced = Array.from({ length: 8 }, () => announcer.request({ ':method': 'POST', ':path': '/validate', 'content-type': 'application/json', 'content-length': String(8 * 1024 * 1024) }))
  for (const st of announced) st.on('error', () => {})
  const sockets = await Promise.all(
    Array.from({ length: 8 }, () => new Promise<import('node:tls').TLSSocket>((resolve, reject) => {
      const sock = tlsConnect({ host: '127.0.0.1', port: s.port, ca: s.ca, ALPNProtocols: ['http/1.1'] }, () => resolve(sock))
      sock.on('error', reject)
    })),
  )
  t.teardown(() => sockets.forEach((x) => x.destroy()))
  for (const sock of sockets) sock.write(`POST /validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${8 * 1024 * 1024}\r\n\r\n`)
  const c = await session(s)
  t.teardown(() => c.destroy())
  t.equal((await post(c, '/validate', reviewBody('while-announced'))).status, 200, 'h2: a review is answered while 16 requests announce 128 MiB')
  t.equal((await h1(reviewBody('while-announced-h1'))).statusCode, 200, 'HTTP/1.1 too')

  // four HTTP/1.1 connections each hold 450 KiB that arrived (1.8 of the 2 MiB)
  const holders = await Promise.all(
    Array.from({ length: 4 }, () => new Promise<import('node:tls').TLSSocket>((resolve, reject) => {
      const sock = tlsConnect({ host: '127.0.0.1', port: s.port, ca: s.ca, ALPNProtocols: ['http/1.1'] }, () => resolve(sock))
      sock.on('error', reject)
    })),
  )
  t.teardown(() => holders.forEach((x) => x.destroy()))
  const held = holders.map((sock) => {
    let answer = ''
    sock.on('data', (d) => (answer += d))
    sock.write(`POST /validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${460 * 1024}\r\n\r\n`)
    sock.write(Buffer.alloc(450 * 1024, 0x20))
    return { sock, answered: () => answer.length > 0 }
  })
  // the held bytes must have arrived (and be counted) before the next review is sent, else on a
  // loaded machine that review could take the budget first and a holder get the 503
  const heldBytes = async () => Number(/^routeguard_review_body_bytes_in_flight (\d+)$/m.exec((await get(agent, `${s.url}/metrics`)).text)?.[1] ?? 0)
  t.ok(await eventually(async () => (await heldBytes()) >= 4 * 450 * 1024), 'the four holders hold 1.8 MiB (routeguard_review_body_bytes_in_flight)')
  const big = 400 * 1024
  const padded = (name: string) => JSON.stringify({ ...JSON.parse(reviewBody(name)), padding: 'x'.repeat(big) })
  let over: Awaited<ReturnType<typeof h1>> | undefined
  let overText = ''
  t.ok(await eventually(async () => {
    over = await h1(padded('over'))
    overText = await over.body.text()
    return over.statusCode === 503
  }), 'a 400 KiB review that does not fit gets 503 once the held bytes have arrived')
  t.match(JSON.parse(overText).message, /MiB of reviews in flight/)
  t.equal(over!.headers['retry-after'], '1')
  t.equal(over!.headers.connection, 'close', 'HTTP/1.1: the connection closes, the rest of the body is not read')
  t.equal((await post(c, '/validate', reviewBody('small'))).status, 200, 'a review of ordinary size is answered from the reserve')
  t.equal((await h1(reviewBody('small-h1'))).statusCode, 200)
  for (const h of held) h.sock.write(Buffer.alloc(10 * 1024, 0x20))
  t.ok(await eventually(() => held.every((h) => h.answered())), 'the held reviews are answered (400: blanks are no JSON)')
  t.equal((await post(c, '/validate', padded('after'))).status, 200, 'a large review fits again once the held ones are done')

  // one connection holds at most a quarter of the budget (512 KiB): a second 300 KiB stream on a session holding 300 KiB is refused
  const one = await session(s)
  t.teardown(() => one.destroy())
  const first = one.request({ ':method': 'POST', ':path': '/validate', 'content-type': 'application/json', 'content-length': String(310 * 1024) })
  const firstDone = new Promise<{ status?: number; text: string; rstCode?: number }>((resolve) => collect(first, resolve))
  first.write(Buffer.alloc(300 * 1024, 0x20))
  t.ok(await eventually(async () => {
    const r = await post(one, '/validate', Buffer.alloc(300 * 1024, 0x20))
    return r.status === 503 && /one connection may hold/.test(JSON.parse(r.text).message)
  }), 'the second stream of that session is refused with the connection share')
  t.equal((await post(c, '/validate', padded('other-connection'))).status, 200, 'another connection is not')
  first.end(Buffer.alloc(10 * 1024, 0x20))
  await firstDone
  t.equal((await get(s.agent, `${s.url}/healthz`)).status, 200, 'alive')
})

t.test('over the body limit and the budget without a Content-Length: the stream is reset or refused, the process lives (both protocols)', async (t) => {
  const s = await startTestServer(t, { bodiesInFlightBytes: 16 * 1024 * 1024 })
  // HTTP/2: 6 streams announcing 8 MiB and sending nothing, and streams without a length sending 64 KiB chunks up to 64 MiB
  const c = await session(s)
  t.teardown(() => c.destroy())
  const quiet = Array.from({ length: 6 }, () => c.request({ ':method': 'POST', ':path': '/validate', 'content-type': 'application/json', 'content-length': String(8 * 1024 * 1024) }))
  for (const st of quiet) st.on('error', () => {})
  const flood = async (session: ClientHttp2Session) => {
    const st = session.request({ ':method': 'POST', ':path': '/validate', 'content-type': 'application/json' })
    const done = new Promise<{ status?: number; text: string; rstCode?: number }>((resolve) => collect(st, resolve))
    const chunk = Buffer.alloc(64 * 1024, 0x20)
    for (let sent = 0; sent < 64 * 1024 * 1024 && !st.closed && !st.destroyed; sent += chunk.length) {
      if (!st.write(chunk)) await new Promise((r) => { st.once('drain', r); st.once('close', r) })
    }
    if (!st.closed) st.end()
    return done
  }
  const floods = await Promise.all([flood(c), flood(await session(s)), flood(await session(s))])
  for (const r of floods) t.ok(r.status === 413 || r.status === 503 || r.rstCode !== undefined, `h2: refused or reset (status ${r.status}, rst ${r.rstCode})`)
  // HTTP/1.1: chunked, no length, 16 MiB
  const sock = tlsConnect({ host: '127.0.0.1', port: s.port, ca: s.ca, ALPNProtocols: ['http/1.1'] })
  await new Promise((r) => sock.once('secureConnect', r))
  let answer = ''
  sock.on('data', (d) => (answer += d))
  sock.on('error', () => {})
  sock.write('POST /validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n')
  const chunk = Buffer.alloc(64 * 1024, 0x20)
  for (let sent = 0; sent < 16 * 1024 * 1024 && !sock.destroyed && sock.writable; sent += chunk.length) {
    const ok = sock.write(`${chunk.length.toString(16)}\r\n`) && sock.write(chunk) && sock.write('\r\n')
    if (!ok) await new Promise((r) => { sock.once('drain', r); sock.once('close', r) })
  }
  await eventually(() => sock.destroyed || /^HTTP\/1\.1 (413|503)/.test(answer))
  t.match(answer, /^(HTTP\/1\.1 (413|503)|)/, 'HTTP/1.1: refused (or the connection closed)')
  sock.destroy()
  t.equal((await get(s.agent, `${s.url}/healthz`)).status, 200, 'the process lives')
  const c2 = await session(s)
  t.teardown(() => c2.destroy())
  t.equal((await post(c2, '/validate', reviewBody('after-flood'))).status, 200, 'and decides')
})
