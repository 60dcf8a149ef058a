/**
 * Reads a V8 CPU profile (`node --cpu-prof`, the `.cpuprofile` JSON) of the webhook's process and
 * tells, for each benchmarked route, where its CPU time per request went: the issue's "profile of
 * whatever blocks a target", in numbers that compare two routes measured back to back.
 *
 * Sample times are V8's monotonic clock in µs, the clock `process.hrtime` reads, so windows taken
 * with `process.hrtime.bigint() / 1000n` in another process on the same machine line up with them.
 */

/** The parts of the `.cpuprofile` format this reads (Chrome DevTools protocol, `Profiler.Profile`). */
export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[]
  /** µs */
  startTime: number
  /** µs */
  endTime: number
  /** node id of each sample */
  samples: number[]
  /** µs since the previous sample (the first since startTime) */
  timeDeltas: number[]
}

/** A stretch of the run in which one route was under load. */
export interface Window {
  route: string
  /** monotonic µs */
  from: number
  /** monotonic µs */
  to: number
  /** requests answered in the window */
  requests: number
}

/**
 * Where a sample's time is counted:
 * - `routeguard`: anything called from our code (a frame of ours under `dist/` or `src/`), libraries included
 * - `json-parse`: the request body parse; `fastify`: routing, hooks, schema validation, reply
 * - `node`: Node's http, net, stream and timer code in JavaScript
 * - `tls-write`: the native `writev` of a response (TLS encryption and the socket write)
 * - `(idle)`: native work outside JavaScript (socket reads, TLS decryption, the event loop) and waiting
 * - `(garbage collector)`, `(program)`, `other`
 */
export type Category = 'routeguard' | 'json-parse' | 'fastify' | 'node' | 'tls-write' | '(idle)' | '(garbage collector)' | '(program)' | 'other'

/**
 * CPU µs per request by category, for each route, summed over that route's windows.
 * @returns route → { requests, us_per_request: total and by category }
 */
export function perRequestByCategory(profile: CpuProfile, windows: readonly Window[]): Record<string, { requests: number; us_per_request: Record<'total' | Category, number> }> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const parent = new Map<number, number>()
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const categoryOf = new Map<number, Category>()
  const classify = (id: number): Category => {
    const known = categoryOf.get(id)
    if (known) return known
    const frame = byId.get(id)!.callFrame
    let c: Category
    if (frame.functionName === '(idle)' || frame.functionName === '(garbage collector)' || frame.functionName === '(program)') c = frame.functionName
    else if (frame.functionName === 'writev' && frame.url === '') c = 'tls-write'
    else if (underOurCode(id)) c = 'routeguard'
    else if (frame.url.includes('secure-json-parse')) c = 'json-parse'
    else if (/\/(fastify|find-my-way|light-my-request|avvio|@fastify)\//.test(frame.url)) c = 'fastify'
    else if (frame.url.startsWith('node:')) c = 'node'
    else c = 'other'
    categoryOf.set(id, c)
    return c
  }
  const underOurCode = (id: number | undefined): boolean => {
    for (; id !== undefined; id = parent.get(id)) {
      const url = byId.get(id)!.callFrame.url
      if ((url.includes('/dist/') || url.includes('/src/')) && !url.includes('/node_modules/')) return true
    }
    return false
  }
  const out: Record<string, { requests: number; us: Map<Category, number> }> = {}
  // a sample's time is the delta to the next sample (the time until the profiler looked again)
  let t = profile.startTime
  const times = profile.timeDeltas.map((d) => (t += d))
  for (const w of windows) {
    const r = (out[w.route] ??= { requests: 0, us: new Map() })
    r.requests += w.requests
    for (let i = 0; i < profile.samples.length; i++) {
      if (times[i]! < w.from || times[i]! >= w.to) continue
      const c = classify(profile.samples[i]!)
      r.us.set(c, (r.us.get(c) ?? 0) + (profile.timeDeltas[i + 1] ?? 0))
    }
  }
  return Object.fromEntries(
    Object.entries(out).map(([route, r]) => {
      const per = (us: number) => Math.round((us / Math.max(1, r.requests)) * 10) / 10
      const cats = [...r.us].sort((a, b) => b[1] - a[1])
      const total = cats.reduce((s, [, us]) => s + us, 0)
      return [route, { requests: r.requests, us_per_request: { total: per(total), ...Object.fromEntries(cats.map(([c, us]) => [c, per(us)])) } as Record<'total' | Category, number> }]
    }),
  )
}
