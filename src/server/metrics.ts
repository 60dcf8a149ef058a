/**
 * Prometheus metrics (prom-client), every name prefixed `routeguard_`.
 * - `routeguard_admission_requests_total{kind,operation,decision,dry_run,path}`: reviews answered
 * - `routeguard_admission_duration_seconds{path}`: time from request to answer, seconds,
 *   buckets 0.25 ms … 10 s
 * - `routeguard_findings_total{code,action}`: findings reported at admission
 * - `routeguard_view_objects{kind}`: objects in the view
 * - `routeguard_config_reloads_total{result}`, `routeguard_config_valid`: `--config` reloads
 * - `routeguard_certificate_expiry_seconds`: seconds until the serving certificate expires
 * - cluster mode: `routeguard_pending_objects` (admitted, not yet delivered by the informers),
 *   `routeguard_pending_expired_total` (pending objects never delivered within the TTL), the
 *   informer gauges (`watchInformers`) and the audit's (`routeguard_audit_*`, registered by AuditRunner)
 * - cluster mode with `--claims` (cluster/claims.ts): `routeguard_claims_total{result}` (claimed,
 *   conflict, error, skipped-too-many), `routeguard_claim_conflicts_total` (reviews denied because
 *   another replica held a key), `routeguard_claim_duration_seconds` (one claim call, all its keys),
 *   `routeguard_claim_strays_collected_total` (expired claims the audit leader deleted)
 * - default process metrics (`routeguard_process_*`, `routeguard_nodejs_*`)
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'
import { KIND, lengthPrefixed } from '../model/object.js'
import { isCode } from '../rules/catalogue.js'

const KNOWN_KIND_KEYS: ReadonlySet<string> = new Set(Object.values(KIND))
const OPERATIONS: ReadonlySet<string> = new Set(['CREATE', 'UPDATE', 'DELETE', 'CONNECT'])
const DECISIONS: ReadonlySet<string> = new Set(['allowed', 'denied', 'warned', 'errored', 'patched', 'invalid'])
const PATHS: ReadonlySet<string> = new Set(['/validate', '/mutate'])
const ACTIONS: ReadonlySet<string> = new Set(['deny', 'warn', 'off'])

export const LATENCY_BUCKETS = [0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

export class Metrics {
  readonly registry = new Registry()
  // written only through the methods below: the two counters are set from LabelCounts at scrape time
  private readonly duration: Histogram<'path'>
  private readonly durationByPath = new Map<string, ReturnType<Histogram<'path'>['labels']>>()
  private readonly requestCounts = new LabelCounts<'kind' | 'operation' | 'decision' | 'dry_run' | 'path'>()
  private readonly findingCounts = new LabelCounts<'code' | 'action'>()
  /** pending objects that expired without the informers delivering them (view/pending.ts) */
  readonly pendingExpired: Counter
  /** claim calls by result: claimed, conflict, error, skipped-too-many */
  readonly claims: Counter<'result'>
  /** reviews denied because another replica's claim was live */
  readonly claimConflicts: Counter
  /** one claim call (all its keys), seconds */
  readonly claimDuration: Histogram
  /** expired claim Leases the audit leader deleted */
  readonly claimStrays: Counter
  /** `--config` reloads by result (`success`, `failure`: the new file was refused, the last good one stays) */
  readonly configReloads: Counter<'result'>
  /** 1 while the config in use is the file's current content, 0 after a refused reload */
  readonly configValid: Gauge

  /**
   * `routeguard_certificate_expiry_seconds`: seconds until the serving certificate in use expires
   * (negative once it has), read at scrape time. With `failurePolicy: Fail` an expired certificate
   * blocks every route write in the cluster: alert well before it reaches 0.
   */
  watchCertificate(notAfterMs: () => number): void {
    this.readAtScrape('routeguard_certificate_expiry_seconds', 'Seconds until the serving certificate in use expires (negative once expired)', () => Math.round((notAfterMs() - Date.now()) / 1000))
  }

  /**
   * `routeguard_review_body_bytes_in_flight`: bytes of review bodies that have arrived and are held
   * until their answer (the in-flight budget bounds them), read at scrape time.
   */
  watchBodiesInFlight(bytes: () => number): void {
    this.readAtScrape('routeguard_review_body_bytes_in_flight', 'Bytes of review bodies that have arrived and are held until answered (bounded by the in-flight budget)', bytes)
  }

  /** `routeguard_pending_objects`, read at scrape time. */
  watchPending(size: () => number): void {
    this.readAtScrape('routeguard_pending_objects', 'Objects this replica admitted that the informers have not delivered yet', size)
  }

  /** A gauge without labels whose value `read` gives when Prometheus scrapes. */
  private readAtScrape(name: string, help: string, read: () => number): void {
    new Gauge({
      name,
      help,
      registers: [this.registry],
      collect() {
        this.set(read())
      },
    })
  }

  /**
   * Counts one answered review. Every label comes from a closed set, so that clients cannot
   * grow the series: `kind` is the kind's name for kinds routeguard knows (`kindKey` in KIND),
   * else `other`; operation, decision and path are ours (anything else counts as `other`).
   */
  countRequest(kind: string, kindKey: string, operation: string, decision: string, dryRun: boolean, path: string): void {
    const k = KNOWN_KIND_KEYS.has(kindKey) ? kind : 'other'
    const op = OPERATIONS.has(operation) ? operation : 'other'
    const d = DECISIONS.has(decision) ? decision : 'other'
    const p = PATHS.has(path) ? path : 'other'
    this.requestCounts.add([k, op, d, String(dryRun), p], () => ({ kind: k, operation: op, decision: d, dry_run: String(dryRun), path: p }))
  }

  /** Counts one finding reported at admission, with the action the policy took (codes and actions are closed sets). */
  countFinding(code: string, action: string): void {
    const c = isCode(code) ? code : 'other'
    const a = ACTIONS.has(action) ? action : 'other'
    this.findingCounts.add([c, a], () => ({ code: c, action: a }))
  }

  /** Records the time to answer one review, in seconds. */
  observeDuration(path: string, seconds: number): void {
    // one child per path (a closed set: our two routes), so that no label object is hashed per review
    let h = this.durationByPath.get(path)
    if (h === undefined) this.durationByPath.set(path, (h = this.duration.labels({ path })))
    h.observe(seconds)
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
    const findingCounts = this.findingCounts
    new Counter({
      name: 'routeguard_admission_requests_total',
      help: 'AdmissionReviews answered, by kind, operation, decision and dryRun',
      labelNames: ['kind', 'operation', 'decision', 'dry_run', 'path'],
      registers: [this.registry],
      collect() {
        requestCounts.copyTo(this)
      },
    })
    this.duration = new Histogram({
      name: 'routeguard_admission_duration_seconds',
      help: 'Time to answer an AdmissionReview, in seconds',
      labelNames: ['path'],
      buckets: LATENCY_BUCKETS,
      registers: [this.registry],
    })
    new Counter({
      name: 'routeguard_findings_total',
      help: 'Findings reported at admission, by rule code and the action taken',
      labelNames: ['code', 'action'],
      registers: [this.registry],
      collect() {
        findingCounts.copyTo(this)
      },
    })
    this.configReloads = new Counter({
      name: 'routeguard_config_reloads_total',
      help: 'Reloads of the --config file, by result (failure: refused, the last good config stays in use)',
      labelNames: ['result'],
      registers: [this.registry],
    })
    this.configValid = new Gauge({
      name: 'routeguard_config_valid',
      help: '1 while the config in use is what the --config file holds; 0 after the file changed to something invalid',
      registers: [this.registry],
    })
    this.configValid.set(1)
    this.pendingExpired = new Counter({
      name: 'routeguard_pending_expired_total',
      help: 'Admitted objects the informers did not deliver within the pending TTL (refused after admission, or watch lag)',
      registers: [this.registry],
    })
    this.claims = new Counter({ name: 'routeguard_claims_total', help: 'Claim calls before admission (--claims), by result: claimed, conflict, error, skipped-too-many', labelNames: ['result'], registers: [this.registry] })
    this.claimConflicts = new Counter({ name: 'routeguard_claim_conflicts_total', help: 'Reviews denied because another replica held a live claim on a conflict key', registers: [this.registry] })
    this.claimDuration = new Histogram({ name: 'routeguard_claim_duration_seconds', help: 'Time of one claim call (every key of the object), seconds', buckets: LATENCY_BUCKETS, registers: [this.registry] })
    this.claimStrays = new Counter({ name: 'routeguard_claim_strays_collected_total', help: 'Expired claim Leases deleted by the audit leader', registers: [this.registry] })
    new Gauge({
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

/**
 * Counts by label set, kept as plain numbers and copied into a prom-client Counter when it is
 * scraped (its `collect()`): prom-client hashes the label object on every `inc`, even on a label
 * child, which is a cost on every admission review. Keys are `lengthPrefixed` label values, so
 * values holding separators (a hostile `kind`) cannot run into one another.
 */
class LabelCounts<L extends string> {
  private readonly counts = new Map<string, { labels: Record<L, string>; n: number }>()

  /** Adds one to the label set `values` (in a fixed order); `labels()` names them the first time. */
  add(values: string[], labels: () => Record<L, string>): void {
    const key = lengthPrefixed(values)
    const c = this.counts.get(key)
    if (c) c.n++
    else this.counts.set(key, { labels: labels(), n: 1 })
  }

  /** Sets `counter` to these totals (its values since the last reset are replaced). */
  copyTo(counter: Counter<L>): void {
    counter.reset()
    for (const c of this.counts.values()) counter.inc(c.labels, c.n)
  }
}
