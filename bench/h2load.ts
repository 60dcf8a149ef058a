/**
 * An HTTP/2 load generator on Node's `http2` client, for `npm run bench` (autocannon speaks only
 * HTTP/1.1). Run in its own process, like autocannon:
 *
 *   node --import tsx bench/h2load.ts <url> <connections> <seconds> <bodyFile> [caFile]
 *
 * `connections` sessions (TLS connections, ALPN h2), each with one stream in flight at a time
 * (autocannon's pipelining 1), POSTing the body back to back for `seconds`. Prints one JSON line
 * in autocannon's shape: `{ requests: { average (per second), total }, latency: { p50, p99 } (ms),
 * errors, non2xx }`.
 */
import { connect, type ClientHttp2Session } from 'node:http2'
import { readFileSync } from 'node:fs'

const [url, c, s, bodyFile, caFile] = process.argv.slice(2)
if (!url || !c || !s || !bodyFile) throw new Error('usage: h2load <url> <connections> <seconds> <bodyFile> [caFile]')
const connections = Number(c)
const seconds = Number(s)
const body = readFileSync(bodyFile)
const u = new URL(url)
const ca = caFile ? readFileSync(caFile) : undefined

const latencies: number[] = []
let errors = 0
let non2xx = 0

function open(): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = connect(u.origin, { ca, rejectUnauthorized: ca !== undefined })
    session.once('connect', () => resolve(session))
    session.once('error', reject)
  })
}

function once(session: ClientHttp2Session): Promise<void> {
  const t0 = process.hrtime.bigint()
  return new Promise((resolve) => {
    const stream = session.request({ ':method': 'POST', ':path': u.pathname, 'content-type': 'application/json' })
    let status = 0
    stream.on('response', (h) => (status = Number(h[':status'])))
    stream.on('data', () => {})
    stream.on('error', () => {
      errors++
      resolve()
    })
    stream.on('end', () => {
      latencies.push(Number(process.hrtime.bigint() - t0) / 1e6)
      if (status < 200 || status >= 300) non2xx++
      resolve()
    })
    stream.end(body)
  })
}

const sessions = await Promise.all(Array.from({ length: connections }, open))
const until = Date.now() + seconds * 1000
const started = Date.now()
await Promise.all(
  sessions.map(async (session) => {
    while (Date.now() < until) await once(session)
  }),
)
const elapsed = (Date.now() - started) / 1000
for (const session of sessions) session.close()
latencies.sort((a, b) => a - b)
const pct = (p: number) => (latencies.length ? Math.round(latencies[Math.min(latencies.length - 1, Math.floor((latencies.length * p) / 100))]! * 1000) / 1000 : NaN)
process.stdout.write(`${JSON.stringify({ requests: { average: latencies.length / elapsed, total: latencies.length }, latency: { p50: pct(50), p99: pct(99) }, errors, non2xx })}\n`)
