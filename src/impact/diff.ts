/**
 * `routeguard diff`: the requests that differ between two states of the configuration (two sets
 * of files, or the cluster and the cluster with files applied), as text, JSON or a markdown
 * table per hostname for a pull request comment. The library behind cli/diff.ts; the engine is
 * impact.ts, the same the webhook runs.
 */
import { canonicalJSON, idOf, type K8sObject, kindKeyOf, nameOf, nsOf } from '../model/object.js'
import { requestURL } from '../routing/examples.js'
import { backendShares, redirectLocation, requestTarget, type TraceResult } from '../routing/types.js'
import { trafficTakeovers, type Ownership } from '../rules/conflicts/traffic-takeover.js'
import type { Finding } from '../rules/types.js'
import type { ClusterView } from '../view/view.js'
import { type Change, describeEntry, IMPACT_KINDS, MAX_CLASSES } from './classes.js'
import { describeShares, type Impact, moveLines, type Move, viewsImpact } from './impact.js'

/** Classes `diff` traces at most (more than one review: a change set). */
export const MAX_DIFF_CLASSES = 4 * MAX_CLASSES

/** What `routeguard diff` found: the changed objects, the requests that differ, and RG0106 findings. */
export interface DiffResult {
  changes: Change[]
  impact: Impact
  /** RG0106 findings, when an ownership config was given */
  takeovers: Finding[]
}

/** What a change compares: the object without status and the metadata the API server keeps. */
function content(o: K8sObject): string {
  const { status: _status, metadata, ...rest } = o as K8sObject & { status?: unknown }
  const m = { ...(metadata ?? {}) } as Record<string, unknown>
  for (const k of ['resourceVersion', 'generation', 'managedFields', 'uid', 'creationTimestamp']) delete m[k]
  return canonicalJSON({ ...rest, metadata: m })
}

/** The objects that differ between two views (added, removed, changed), of the kinds that route. */
export function changedObjects(before: ClusterView, after: ClusterView): Change[] {
  const out: Change[] = []
  const seen = new Set<string>()
  for (const a of after.all()) {
    const kind = kindKeyOf(a)
    if (!kind || !IMPACT_KINDS.has(kind)) continue
    const id = idOf(a)
    seen.add(id)
    const b = before.getById(id)
    if (!b) out.push({ after: a })
    else if (content(a) !== content(b)) out.push({ before: b, after: a })
  }
  for (const b of before.all()) {
    const kind = kindKeyOf(b)
    if (kind && IMPACT_KINDS.has(kind) && !seen.has(idOf(b))) out.push({ before: b })
  }
  return out
}

/**
 * The requests that differ between `before` and `after`, and with `ownership` the RG0106
 * takeovers of each changed object (judged on the view before).
 */
export function diffViews(before: ClusterView, after: ClusterView, ownership?: Ownership): DiffResult {
  const changes = changedObjects(before, after)
  const impact = viewsImpact(before, after, changes, MAX_DIFF_CLASSES)
  const said = new Set<string>()
  const takeovers: Finding[] = []
  for (const c of changes) {
    const subject = c.after ?? c.before!
    for (const f of trafficTakeovers(subject, impact, ownership, before)) {
      if (said.has(f.message)) continue
      said.add(f.message)
      takeovers.push(f)
    }
  }
  return { changes, impact, takeovers }
}

/** One side in the shape of `trace -o json`. */
function traceShape(r: TraceResult): Record<string, unknown> {
  return { status: r.status, route: r.route, backends: r.backends, backendRequest: r.backendRequest, redirect: r.redirect }
}

/** Where the request went through: the Gateway and listener, or the mesh Service. */
function via(m: Move): string {
  return m.entry.type === 'mesh' ? `Service ${m.req.host ?? ''}:${m.req.port}` : describeEntry(m.entry)
}

/** The JSON document of a diff. */
export function diffJSON(d: DiffResult): Record<string, unknown> {
  return {
    changes: d.impact.moves.map((m) => ({
      request: { method: m.req.method, url: requestURL(m.req), headers: m.req.headers, ...(m.entry.type === 'mesh' ? { from: m.entry.from } : {}) },
      via: via(m),
      differs: m.differs,
      before: traceShape(m.before),
      after: traceShape(m.after),
    })),
    evaluated: d.impact.evaluated,
    total: d.impact.total,
    objects: d.changes.map((c) => {
      const o = (c.after ?? c.before)!
      return { kind: String(o.kind), namespace: nsOf(o), name: nameOf(o), change: c.before && c.after ? 'changed' : c.after ? 'added' : 'removed' }
    }),
    ...(d.takeovers.length ? { takeovers: d.takeovers } : {}),
  }
}

/** One line per request that differs (`moveLines`), then the RG0106 messages. */
export function diffText(d: DiffResult): string {
  return [...moveLines(d.impact.moves), ...d.takeovers.map((f) => f.message)].join('\n')
}

function cell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ')
}

function sideText(r: TraceResult): string {
  const route = r.route ? `${r.route.kind} ${r.route.namespace}/${r.route.name} rule ${r.route.rule}` : 'no route'
  const backends = describeShares(backendShares(r))
  if (r.redirect) return `${route}: ${r.redirect.statusCode} → ${redirectLocation(r.redirect)}`
  return `${route}: ${r.status}${backends && (r.status === 200 || r.status === 101) ? ` → ${backends}` : ''}`
}

/** Markdown for a pull request comment: a summary, then one table per hostname. */
export function diffMarkdown(d: DiffResult): string {
  const lines: string[] = []
  const n = d.impact.moves.length
  lines.push(n ? `**routeguard diff: ${n} request class${n > 1 ? 'es' : ''} change** (${d.impact.evaluated} of ${d.impact.total} evaluated)` : `**routeguard diff: no request changes** (${d.impact.evaluated} of ${d.impact.total} evaluated)`)
  const byHost = new Map<string, Move[]>()
  for (const m of d.impact.moves) {
    const h = m.req.host ?? '<address>'
    byHost.set(h, [...(byHost.get(h) ?? []), m])
  }
  for (const [host, moves] of byHost) {
    lines.push('', `### ${host}`, '', '| request | via | before | after |', '|---|---|---|---|')
    for (const m of moves) {
      const req = `${m.req.method} ${requestTarget(m.req.path, m.req.query)}${Object.keys(m.req.headers).length ? ` (${Object.entries(m.req.headers).map(([k, v]) => `${k}: ${v}`).join(', ')})` : ''}`
      lines.push(`| \`${cell(req)}\` | ${cell(m.entry.type === 'mesh' ? `from ${m.entry.from}` : via(m))} | ${cell(sideText(m.before))} | ${cell(sideText(m.after))} |`)
    }
  }
  if (d.takeovers.length) {
    lines.push('', '### Takeovers (RG0106)', '')
    for (const f of d.takeovers) lines.push(`- ${cell(f.message)}`)
  }
  return lines.join('\n')
}

/** The summary line for stderr: `3 request classes change (41 of 41 evaluated)`. */
export function diffSummary(d: DiffResult): string {
  const n = d.impact.moves.length
  return `${n} request class${n === 1 ? '' : 'es'} change${n === 1 ? 's' : ''} (${d.impact.evaluated} of ${d.impact.total} evaluated)${d.takeovers.length ? `; ${d.takeovers.length} RG0106 takeover(s)` : ''}`
}

