/**
 * An HTTP/2 load generator on Node's `http2` client, for `npm run bench` (autocannon speaks only
 * HTTP/1.1). Run in its own process, like autocannon:
 *
 *   node --import tsx bench/h2load.ts <url> <connections> <seconds> <bodyFile> <caFile>
 *
 * `connections` sessions (TLS connections, ALPN h2; test/support/h2.ts's client), each with one stream in flight at a time
 * (autocannon's pipelining 1), POSTing the body back to back for `seconds`. Prints one JSON line
 * in autocannon's shape: `{ requests: { average (per second), total }, latency: { p50, p99 } (ms),
 * errors, non2xx }`.
 */
import { readFileSync } from 'node:fs'
import { H2Client } from '../test/support/h2.js'

const [url, c, s, bodyFile, caFile] = process.argv.slice(2)
if (!url || !c || !s || !bodyFile || !caFile) throw new Error('usage: h2load <url> <connections> <seconds> <bodyFile> <caFile>')
const connections = Number(c)
const seconds = Number(s)
const body = readFileSync(bodyFile)
const ca = readFileSync(caFile)

const latencies: number[] = []
let errors = 0
let non2xx = 0

// one client (one session) per connection, each with one stream in flight
const clients = Array.from({ length: connections }, () => new H2Client(ca))
// connected before the clock starts, as autocannon's connections are
await Promise.all(clients.map((x) => new Promise((resolve, reject) => x.session(new URL(url).origin).once('connect', resolve).once('error', reject))))
const started = Date.now()
const until = started + seconds * 1000
await Promise.all(
  clients.map(async (client) => {
    while (Date.now() < until) {
      const t0 = process.hrtime.bigint()
      try {
        const r = await client.request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
        latencies.push(Number(process.hrtime.bigint() - t0) / 1e6)
        if (r.status < 200 || r.status >= 300) non2xx++
      } catch {
        errors++
      }
    }
  }),
)
const elapsed = (Date.now() - started) / 1000
await Promise.all(clients.map((x) => x.close()))
latencies.sort((a, b) => a - b)
const pct = (p: number) => (latencies.length ? Math.round(latencies[Math.min(latencies.length - 1, Math.floor((latencies.length * p) / 100))]! * 1000) / 1000 : NaN)
process.stdout.write(`${JSON.stringify({ requests: { average: latencies.length / elapsed, total: latencies.length }, latency: { p50: pct(50), p99: pct(99) }, errors, non2xx })}\n`)
