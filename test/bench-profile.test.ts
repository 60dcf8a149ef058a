/** bench/profile.ts: CPU profile samples counted per route window and category. */
import t from 'tap'
import { type CpuProfile, perRequestByCategory } from '../bench/profile.js'

const frame = (id: number, functionName: string, url: string, children: number[] = []) => ({ id, callFrame: { functionName, url, lineNumber: 0 }, children })

// root ─ (idle) | writev | fastify reply ─ our handler ─ prom-client | a library's dist/ file | node:net
const profile: CpuProfile = {
  nodes: [
    frame(1, '(root)', '', [2, 3, 4, 7, 8, 9]),
    frame(2, '(idle)', ''),
    frame(3, 'writev', ''),
    frame(4, 'send', 'file:///app/node_modules/fastify/lib/reply.js', [5]),
    frame(5, 'validate', 'file:///app/dist/admission/handler.js', [6]),
    frame(6, 'observe', 'file:///app/node_modules/prom-client/lib/histogram.js'),
    frame(7, 'get', 'file:///app/node_modules/toad-cache/dist/toad-cache.cjs'),
    frame(8, 'Socket._writev', 'node:net'),
    frame(9, '(garbage collector)', ''),
  ],
  startTime: 1000,
  endTime: 2000,
  // one sample every 10 µs from 1010; a sample's time is the gap to the next one
  samples: [2, 3, 5, 6, 4, 7, 8, 9, 2, 5, 5],
  timeDeltas: [10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10],
}

t.test('samples are counted in their route window, by category, per request', async (t) => {
  const r = perRequestByCategory(profile, [
    { route: '/validate', from: 1010, to: 1090, requests: 2 }, // samples at 1010 … 1080
    { route: '/noop', from: 1090, to: 1200, requests: 1 }, // samples at 1090 … 1110 (the last has no next: 0 µs)
  ])
  t.same(r['/validate']!.requests, 2)
  t.same(r['/validate']!.us_per_request, {
    total: 40,
    '(idle)': 5,
    'tls-write': 5,
    routeguard: 10, // our handler and the library it called
    fastify: 5,
    other: 5, // a library's own dist/ is not ours
    node: 5,
    '(garbage collector)': 5,
  })
  t.same(r['/noop']!.us_per_request, { total: 20, '(idle)': 10, routeguard: 10 })
})

t.test('a window with no requests does not divide by zero', async (t) => {
  const r = perRequestByCategory(profile, [{ route: '/x', from: 0, to: 5000, requests: 0 }])
  t.equal(r['/x']!.us_per_request.total, 100)
})
