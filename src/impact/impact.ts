/**
 * Change impact (issue #25): which requests a change moves, and from whom. The request classes of
 * `classes.ts` are traced on the view before and after the change with the routing models
 * `trace` runs (routing/gateway-api.ts, routing/istio.ts, the mesh combination of
 * routing/trace.ts); a class whose outcome differs is a *move*. One engine for the webhook
 * (`admissionImpact`: the view itself, the change tried on it and taken back), `routeguard diff`
 * and the tests (`viewsImpact`: two views).
 *
 * What counts as a difference: the route that serves the request (its kind, namespace and the
 * matches of the rule; a renamed route or reordered rules that select the same requests are no
 * difference), the usable backends and their share (weights, per cent), the
 * workloads behind them, the status, the redirect, the rewritten path or host. Failing on both
 * sides without a route change (404 and 404, 500 and 503) is no difference.
 *
 * Bounds: at most `max` classes are traced on each side (the rest are counted in `total`); in the
 * webhook the whole of it runs under the review deadline (deadline.ts) and, within it, its own
 * budget `budgetMs`, after which the classes not traced yet are counted as not evaluated.
 */
import { arr, canonicalJSON, type K8sObject, KIND, kindKeyOf, kindKeysNamed, rec } from '../model/object.js'
import { checkDeadline, DeadlineExceeded, withDeadline } from '../deadline.js'
import { describeRequest } from '../routing/examples.js'
import { type GatewayTraceMemo, traceGateway } from '../routing/gateway-api.js'
import { traceIstioGateway } from '../routing/istio.js'
import { traceFromNamespace } from '../routing/trace.js'
import { backendShares, describeRedirect, type TraceResult } from '../routing/types.js'
import type { ClusterView, View } from '../view/view.js'
import { type Change, ClassSet, describeEntry, MAX_CLASSES, type RequestClass } from './classes.js'

/** Aspects of an outcome a move can change. */
export type Aspect = 'route' | 'backends' | 'workloads' | 'status' | 'redirect' | 'rewrite'

/** A request class whose outcome differs before and after. */
export interface Move extends RequestClass {
  before: TraceResult
  after: TraceResult
  /** what differs, in this order: route, backends, workloads, status, redirect, rewrite */
  differs: Aspect[]
}

/** The requests a change moves; `evaluated` of `total` classes traced on both sides (the rest over the cap or the budget). */
export interface Impact {
  moves: Move[]
  /** classes traced on both sides */
  evaluated: number
  /** classes there were (evaluated or not) */
  total: number
}

/** Comparable form of one outcome. */
interface Outcome {
  route: string
  backends: string
  workloads: string
  status: number
  redirect: string
  rewrite: string
}

/** The route object a trace names (its kind by name: HTTPRoute, VirtualService, …), in `view`. */
export function routeObject(view: View, route: { kind: string; namespace: string; name: string }): K8sObject | undefined {
  for (const key of kindKeysNamed(route.kind)) {
    const obj = view.get(key, route.namespace, route.name)
    if (obj) return obj
  }
  return undefined
}

/**
 * The rule that served, by what it selects: kind, namespace and the rule's matches (for a
 * VirtualService `http[i].match`), so that a renamed route or reordered rules that select the
 * same requests compare equal, and a change of backends is a change of backends, not of route.
 */
function ruleIdentity(view: View, r: TraceResult): string {
  if (!r.route) return ''
  const obj = routeObject(view, r.route)
  const vs = r.route.kind === 'VirtualService'
  const rules = obj ? arr(rec(obj.spec)[vs ? 'http' : 'rules']) : []
  if (!obj || rules[r.route.rule] === undefined) return `${r.route.kind}|${r.route.namespace}|${r.route.name}|${r.route.rule}`
  const rule = rec(rules[r.route.rule])
  return `${r.route.kind}|${r.route.namespace}|${canonicalJSON(vs ? (rule.match ?? null) : (rule.matches ?? null))}`
}

function outcome(view: View, r: TraceResult): Outcome {
  const shares = backendShares(r)
  const forwarded = r.status === 200 || r.status === 101
  return {
    route: ruleIdentity(view, r),
    backends: forwarded ? shares.map(({ backend: b, percent }) => `${b.namespace}/${b.name}${b.subset ? `/${b.subset}` : ''}=${percent}`).sort().join(',') : '',
    workloads: forwarded ? [...new Set(shares.flatMap(({ backend: b }) => b.workloads.map((w) => `${w.kind} ${w.namespace}/${w.name}`)))].sort().join(',') : '',
    status: r.status,
    redirect: r.redirect ? describeRedirect(r.redirect) : '',
    rewrite: forwarded && r.backendRequest ? `${r.backendRequest.path} ${r.backendRequest.host ?? ''}` : '',
  }
}

function differs(a: Outcome, b: Outcome): Aspect[] {
  const out: Aspect[] = []
  if (a.route !== b.route) out.push('route')
  // failing on both sides, the same route or none: no difference (404/500/503 alike)
  if (a.status >= 400 && b.status >= 400 && !out.length) return []
  if (a.backends !== b.backends) out.push('backends')
  if (a.workloads !== b.workloads) out.push('workloads')
  if (a.status !== b.status) out.push('status')
  if (a.redirect !== b.redirect) out.push('redirect')
  if (a.rewrite !== b.rewrite) out.push('rewrite')
  return out
}

/**
 * One class traced on `view`: through the Gateway API Gateway or Istio Gateway it names (404 when
 * that Gateway is not in the view), or from a sidecar in its namespace.
 */
export function traceClass(view: View, c: RequestClass, memo?: GatewayTraceMemo): TraceResult {
  const e = c.entry
  if (e.type === 'mesh') return traceFromNamespace(view, e.from, c.req)
  const gw = view.get(e.type === 'gateway' ? KIND.Gateway : KIND.IstioGateway, e.namespace, e.name)
  if (!gw) return { status: 404, route: null, backends: [], backendRequest: null, redirect: null, via: `${describeEntry(e)}: no such Gateway`, candidates: [] }
  const req = { ...c.req, port: e.port }
  return e.type === 'gateway' ? traceGateway(view, gw, req, memo) : traceIstioGateway(view, gw, req)
}

interface Traced {
  results: TraceResult[]
  outcomes: Outcome[]
}

/**
 * Traces the classes from `into.results.length` up to `upTo` on `view` into `into` (results kept
 * as they come, so that a deadline that interrupts keeps what was traced).
 */
function traceInto(view: View, classes: readonly RequestClass[], upTo: number, into: Traced): void {
  // one view, unchanged while these are traced: what is attached under a listener and host is found once
  const memo: GatewayTraceMemo = new Map()
  for (let i = into.results.length; i < upTo; i++) {
    const r = traceClass(view, classes[i]!, memo)
    into.outcomes.push(outcome(view, r))
    into.results.push(r)
  }
}

function traceAll(view: View, classes: readonly RequestClass[], upTo: number): Traced {
  const into: Traced = { results: [], outcomes: [] }
  traceInto(view, classes, upTo, into)
  return into
}

/**
 * Runs `fn` within `ms` of its own (nested in the review deadline, deadline.ts). Past its own
 * budget `fn` is cut short and what it did stands; past the review's deadline the
 * DeadlineExceeded goes on to the review.
 */
function bounded(ms: number, fn: () => void): void {
  try {
    withDeadline(ms, fn)
  } catch (e) {
    if (!(e instanceof DeadlineExceeded)) throw e
    checkDeadline()
  }
}

function movesOf(classes: readonly RequestClass[], before: Traced, after: Traced): Move[] {
  const moves: Move[] = []
  const n = Math.min(before.results.length, after.results.length)
  for (let i = 0; i < n; i++) {
    const d = differs(before.outcomes[i]!, after.outcomes[i]!)
    if (d.length) moves.push({ ...classes[i]!, before: before.results[i]!, after: after.results[i]!, differs: d })
  }
  return moves
}

/**
 * The impact of `changes` between two views (`routeguard diff`, tests): classes from both views,
 * each traced on both.
 */
export function viewsImpact(before: View, after: View, changes: readonly Change[], max = MAX_CLASSES): Impact {
  const set = new ClassSet(max)
  for (const c of changes) set.addChange(c, [before, after])
  const b = traceAll(before, set.classes, set.classes.length)
  const a = traceAll(after, set.classes, set.classes.length)
  return { moves: movesOf(set.classes, b, a), evaluated: set.classes.length, total: set.total }
}

/** Bounds of `admissionImpact`. */
export interface AdmissionImpactOptions {
  /** classes at most (default MAX_CLASSES) */
  max?: number
  /** ms the impact may take within the review deadline (default: no budget of its own) */
  budgetMs?: number
}

/**
 * The impact of one admitted write on the view the webhook holds: `change.before` is what the
 * view holds for the object (undefined for a CREATE), `change.after` the object under review
 * (undefined for a removal). Only requests somebody served before can be taken from anyone, so
 * the side before is traced first and the side after only for those (a route on a hostname
 * nobody serves costs no trial at all); moves are among them. The change is tried on the view
 * (`ClusterView.trial`) and taken back; nothing is stored and no listener hears of it. Reading
 * values, the side before and the side after each run under a deadline of their own nested in
 * the review's (a quarter, a quarter and a half of `budgetMs`): what is not traced in time is
 * counted in `total` and not in `evaluated`, and the impact never costs the review its verdict.
 * @throws DeadlineExceeded when the review deadline itself passes (the view is restored first)
 */
export function admissionImpact(view: ClusterView, change: Change, opts: AdmissionImpactOptions = {}): Impact {
  const set = new ClassSet(opts.max ?? MAX_CLASSES)
  set.servedOnly = true
  const start = performance.now()
  const budget = opts.budgetMs ?? Infinity
  const before: Traced = { results: [], outcomes: [] }
  const after: Traced = { results: [], outcomes: [] }
  // a Gateway's new listener is an entry only the view after the change has
  const entriesChange = [change.before, change.after].some((o) => o && (kindKeyOf(o) === KIND.Gateway || kindKeyOf(o) === KIND.IstioGateway))
  // a route's or DestinationRule's classes come from its two versions and its competitors,
  // which both views hold alike: read once, from the view as it is
  bounded(budget / 4, () => {
    set.stopAt = start + (entriesChange ? budget / 8 : budget / 4)
    set.addChange(change, [view])
    if (!entriesChange) return
    view.trial(trialChanges(change), () => {
      set.stopAt = start + budget / 4
      set.addChange(change, [view])
    })
  })
  // the side before first: only requests somebody served can be taken from anyone (`served`);
  // a route on a hostname nobody serves traces no request after the change at all
  bounded(Math.max(1, start + budget / 2 - performance.now()), () => traceInto(view, set.classes, set.classes.length, before))
  const relevant: number[] = []
  for (let i = 0; i < before.results.length; i++) if (served(before.results[i]!)) relevant.push(i)
  if (relevant.length) {
    const classes = relevant.map((i) => set.classes[i]!)
    bounded(Math.max(1, start + budget - performance.now()), () => view.trial(trialChanges(change), () => traceInto(view, classes, classes.length, after)))
  }
  const b: Traced = { results: relevant.map((i) => before.results[i]!), outcomes: relevant.map((i) => before.outcomes[i]!) }
  const moves = movesOf(relevant.map((i) => set.classes[i]!), b, after)
  const notTraced = relevant.length - after.results.length + (set.classes.length - before.results.length)
  return { moves, evaluated: set.classes.length - notTraced, total: set.total }
}

/** Was the request served before (a route, or a Service answering without one)? Only then can a change take it. */
function served(r: TraceResult): boolean {
  return r.route !== null || r.status < 400
}

function trialChanges(change: Change): ({ put: K8sObject } | { drop: K8sObject })[] {
  return change.after ? [{ put: change.after }] : change.before ? [{ drop: change.before }] : []
}

/** `reviews/v1 80%, reviews/v2 20%`: backends by name (and subset) with their share. */
export function describeShares(shares: ReturnType<typeof backendShares>): string {
  return shares.map(({ backend: b, percent }) => `${b.name}${b.subset ? `/${b.subset}` : ''} ${percent}%`).join(', ')
}

/** `before → after` for one side: the route, and each other aspect that differs. */
function side(r: TraceResult, aspects: readonly Aspect[], requestHost: string | undefined): string {
  const service = r.backends[0]
  const label = r.route
    ? `${r.route.kind} ${r.route.namespace}/${r.route.name} rule ${r.route.rule}`
    : r.status < 400 && service
      ? `no route: ${service.kind} ${service.namespace}/${service.name}`
      : `no route (${r.status})`
  const details: string[] = []
  const shares = backendShares(r)
  if (aspects.includes('backends')) details.push(shares.length ? describeShares(shares) : 'no backend')
  if (aspects.includes('workloads')) details.push(`workloads ${[...new Set(shares.flatMap(({ backend: b }) => b.workloads.map((w) => `${w.namespace}/${w.name}`)))].join(', ') || 'none'}`)
  if (aspects.includes('status') && r.route && r.status >= 400) details.push(`status ${r.status}`)
  if (aspects.includes('redirect') && r.redirect) details.push(`redirect ${describeRedirect(r.redirect)}`)
  if (aspects.includes('rewrite') && r.backendRequest) details.push(`backend gets ${r.backendRequest.path}${r.backendRequest.host && r.backendRequest.host !== requestHost ? ` host ${r.backendRequest.host}` : ''}`)
  return details.length ? `${label} (${details.join('; ')})` : label
}

/**
 * One line per move: `GET http://shop.example.com/checkout: HTTPRoute team-a/shop rule 0 →
 * HTTPRoute team-b/checkout rule 0`; a request inside the mesh says its client's namespace
 * (`… from namespace shop: …`). Identical lines (one request through two entries alike) once.
 */
export function moveLines(moves: readonly Move[]): string[] {
  const out: string[] = []
  const seen = new Set<string>()
  for (const m of moves) {
    const where = m.entry.type === 'mesh' ? ` from namespace ${m.entry.from}` : ''
    // another route: the routes say it (and a status or redirect that came with it); the same
    // route: what changed under it (backends and weights, workloads, status, redirect, rewrite)
    const shown = m.differs.includes('route') ? m.differs.filter((d) => d === 'status' || d === 'redirect') : m.differs
    const line = `${describeRequest(m.req)}${where}: ${side(m.before, shown, m.req.host)} → ${side(m.after, shown, m.req.host)}`
    if (seen.has(line)) continue
    seen.add(line)
    out.push(line)
  }
  return out
}
