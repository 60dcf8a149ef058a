/**
 * Prometheus metrics (prom-client), every name prefixed `routeguard_`.
 * - `routeguard_admission_requests_total{kind,operation,decision,dry_run,path}`: reviews answered
 * - `routeguard_admission_duration_seconds{path}`: time from request to answer, seconds,
 *   buckets 0.25 ms … 10 s
 * - `routeguard_findings_total{code,action}`: findings reported at admission
 * - `routeguard_view_objects{kind}`: objects in the view
 * - default process metrics (`routeguard_process_*`, `routeguard_nodejs_*`)
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'

export const LATENCY_BUCKETS = [0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

export class Metrics {
  readonly registry = new Registry()
  readonly requests: Counter<'kind' | 'operation' | 'decision' | 'dry_run' | 'path'>
  readonly duration: Histogram<'path'>
  readonly findings: Counter<'code' | 'action'>
  readonly viewObjects: Gauge<'kind'>

  /** Reviews answered, by label set: counted here per request, handed to prom-client at scrape time. */
  private readonly requestCounts = new Map<string, { labels: Record<'kind' | 'operation' | 'decision' | 'dry_run' | 'path', string>; n: number }>()
  private readonly durationChildren = new Map<string, { observe: (v: number) => void }>()
  /** Findings reported, by code and action: counted here, handed to prom-client at scrape time. */
  private readonly findingCounts = new Map<string, { labels: Record<'code' | 'action', string>; n: number }>()

  /** Counts one finding reported at admission with the action the policy took. */
  countFinding(code: string, action: string): void {
    const key = `${code} ${action}`
    const c = this.findingCounts.get(key)
    if (c) c.n++
    else this.findingCounts.set(key, { labels: { code, action }, n: 1 })
  }

  /**
   * Counts one answered review. A plain counter per label set (prom-client hashes the labels
   * on every `inc`, even on a label child); the Counter reads them in `collect()`.
   */
  countRequest(kind: string, operation: string, decision: string, dryRun: boolean, path: string): void {
    const key = `${kind} ${operation} ${decision} ${dryRun} ${path}`
    const c = this.requestCounts.get(key)
    if (c) c.n++
    else this.requestCounts.set(key, { labels: { kind, operation, decision, dry_run: String(dryRun), path }, n: 1 })
  }

  /** Records the time to answer one review, in seconds. */
  observeDuration(path: string, seconds: number): void {
    let c = this.durationChildren.get(path)
    if (!c) this.durationChildren.set(path, (c = this.duration.labels({ path })))
    c.observe(seconds)
  }

  /**
   * Informer metrics, read at scrape time: `routeguard_informer_restarts{kind}`,
   * `routeguard_informer_seconds_since_last_event{kind}` (seconds), `routeguard_informer_synced{kind}` (0/1).
   */
  watchInformers(status: () => { kind: string; restarts: number; lastActivity: number; synced: boolean }[]): void {
    new Gauge({
      name: 'routeguard_informer_restarts',
      help: 'Informer restarts after watch errors, by kind',
      labelNames: ['kind'],
      registers: [this.registry],
      collect() {
        for (const s of status()) this.set({ kind: s.kind }, s.restarts)
      },
    })
    new Gauge({
      name: 'routeguard_informer_seconds_since_last_event',
      help: 'Seconds since the last watch event, bookmark or reconnect, by kind',
      labelNames: ['kind'],
      registers: [this.registry],
      collect() {
        const now = Date.now()
        for (const s of status()) this.set({ kind: s.kind }, s.lastActivity ? (now - s.lastActivity) / 1000 : -1)
      },
    })
    new Gauge({
      name: 'routeguard_informer_synced',
      help: '1 when the informer has listed at least once, by kind',
      labelNames: ['kind'],
      registers: [this.registry],
      collect() {
        for (const s of status()) this.set({ kind: s.kind }, s.synced ? 1 : 0)
      },
    })
  }

  constructor(viewCounts?: () => Iterable<[string, number]>) {
    collectDefaultMetrics({ register: this.registry, prefix: 'routeguard_' })
    const requestCounts = this.requestCounts
    this.requests = new Counter({
      name: 'routeguard_admission_requests_total',
      help: 'AdmissionReviews answered, by kind, operation, decision and dryRun',
      labelNames: ['kind', 'operation', 'decision', 'dry_run', 'path'],
      registers: [this.registry],
      collect() {
        this.reset()
        for (const c of requestCounts.values()) this.inc(c.labels, c.n)
      },
    })
    this.duration = new Histogram({
      name: 'routeguard_admission_duration_seconds',
      help: 'Time to answer an AdmissionReview, in seconds',
      labelNames: ['path'],
      buckets: LATENCY_BUCKETS,
      registers: [this.registry],
    })
    const findingCounts = this.findingCounts
    this.findings = new Counter({
      name: 'routeguard_findings_total',
      help: 'Findings reported at admission, by rule code and the action taken',
      labelNames: ['code', 'action'],
      registers: [this.registry],
      collect() {
        this.reset()
        for (const c of findingCounts.values()) this.inc(c.labels, c.n)
      },
    })
    this.viewObjects = new Gauge({
      name: 'routeguard_view_objects',
      help: 'Objects held in the view, by kind',
      labelNames: ['kind'],
      registers: [this.registry],
      collect() {
        if (!viewCounts) return
        this.reset()
        for (const [kind, n] of viewCounts()) this.set({ kind }, n)
      },
    })
  }
}
