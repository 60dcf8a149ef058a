/**
 * The background audit in cluster mode: leader-elected (one replica audits; every replica keeps
 * serving admission), a pass every `intervalMs` once the view is synced, results to PolicyReports
 * or Events. Metrics: `routeguard_audit_findings{code}`, `routeguard_audit_duration_seconds`
 * (last pass, seconds), `routeguard_audit_last_run_timestamp_seconds`, `routeguard_audit_leader`,
 * `routeguard_audit_up` (0 while the audit cannot run: see `health()`).
 *
 * When the audit cannot run it says so, on every replica that sees it: the Lease namespace does
 * not exist, the Lease is forbidden (RBAC), no report CRD (openreports Report, PolicyReport) is installed (findings then
 * go to Events, which are not a report), or a pass failed (its reports could not be written).
 * Each is one ERROR log line when it starts (and an INFO line when it ends), `routeguard_audit_up
 * 0`, and the reason in /readyz's body (readiness itself does not change: admission is unaffected).
 */
import { shorten } from '../model/text.js'
import * as k8s from '@kubernetes/client-node'
import { Gauge } from 'prom-client'
import type { Metrics } from '../server/metrics.js'
import type { ClusterView } from '../view/view.js'
import { apiError, discover } from '../cluster/client.js'
import { LeaderElector } from '../cluster/lease.js'
import { Auditor } from './auditor.js'
import { EventSink, OPEN_REPORT, PolicyReportSink, type ReportSink, WG_POLICY_REPORT } from './report.js'
import type { SubsetReconciler } from '../subsets/reconciler.js'
import type { Implementation } from '../rules/types.js'
import type { Ownership } from '../rules/conflicts/traffic-takeover.js'

export interface AuditOptions {
  /** also keep generated subset Services right, on the same leader, after each pass */
  reconciler?: SubsetReconciler
  /** the Gateway API implementation RG0301 judges against */
  implementation?: Implementation
  /** the config's hostname ownership (read at each object: it reloads), for RG0106 on stored routes */
  ownership?: () => Ownership | undefined
  /** with `--claims`: expired claim Leases are deleted after each pass (returns how many) */
  collectStrays?: () => Promise<number>
  /** ms to wait after a change in the view before an early pass (default 1000) */
  reactAfterMs?: number
  intervalMs?: number
  identity: string
  leaseNamespace?: string
  leaseName?: string
  /** lease timings (tests shorten them) */
  leaseDurationSeconds?: number
  renewIntervalMs?: number
  retryIntervalMs?: number
}

const OPEN_REPORT_KIND = { group: OPEN_REPORT.group, versions: [OPEN_REPORT.version], plural: OPEN_REPORT.plural, kind: OPEN_REPORT.kind, namespaced: true }
const POLICY_REPORT_KIND = { group: WG_POLICY_REPORT.group, versions: [WG_POLICY_REPORT.version], plural: WG_POLICY_REPORT.plural, kind: WG_POLICY_REPORT.kind, namespaced: true }

export class AuditRunner {
  readonly elector: LeaderElector
  private auditor: Auditor | undefined
  private sink: ReportSink | undefined
  private timer: NodeJS.Timeout | undefined
  private running = false
  /** results not yet written (a failed write is retried with the next pass) */
  private pendingNamespaces = new Set<string>()
  private pendingAdded: ReturnType<Auditor['all']> = []
  private readonly findingsGauge: Gauge<'code'>
  private readonly durationGauge: Gauge
  private readonly lastRunGauge: Gauge
  /** why the leader's passes cannot do their job (report CRD missing, a pass failed), or undefined */
  private passProblem: string | undefined
  passes = 0

  constructor(
    private readonly kc: k8s.KubeConfig,
    private readonly view: ClusterView,
    private readonly ready: () => boolean,
    private readonly o: AuditOptions,
    metrics: Metrics,
    private readonly log?: { info: (o: object, m: string) => void; warn: (o: object, m: string) => void; error: (o: object, m: string) => void },
  ) {
    const registers = [metrics.registry]
    this.findingsGauge = new Gauge({ name: 'routeguard_audit_findings', help: 'Findings of the last audit pass, by rule code', labelNames: ['code'], registers })
    this.durationGauge = new Gauge({ name: 'routeguard_audit_duration_seconds', help: 'Duration of the last audit pass, in seconds', registers })
    this.lastRunGauge = new Gauge({ name: 'routeguard_audit_last_run_timestamp_seconds', help: 'When the last audit pass finished, unix seconds', registers })
    const self = this
    new Gauge({ name: 'routeguard_audit_leader', help: 'Whether this replica holds the audit Lease (1) or not (0)', registers, collect() { this.set(self.elector.isLeader ? 1 : 0) } })
    new Gauge({ name: 'routeguard_audit_up', help: 'Whether the background audit can run (1) or not (0: see the ERROR log and /readyz)', registers, collect() { this.set(self.health().up ? 1 : 0) } })
    this.elector = new LeaderElector(kc, {
      namespace: o.leaseNamespace ?? 'routeguard-system',
      name: o.leaseName ?? 'routeguard',
      identity: o.identity,
      leaseDurationSeconds: o.leaseDurationSeconds,
      renewIntervalMs: o.renewIntervalMs,
      retryIntervalMs: o.retryIntervalMs,
      log,
      onStartedLeading: () => this.lead(),
      onStoppedLeading: () => this.follow(),
      onProblem: (reason) => this.problemChanged('lease', reason),
    })
  }

  /**
   * Can the audit run? `up` is false with a `reason` while the Lease cannot be used (no replica
   * can lead) or, on the leader, while its passes cannot write their reports.
   */
  health(): { up: boolean; reason?: string; leader: boolean } {
    const reason = this.elector.problem ?? (this.elector.isLeader ? this.passProblem : undefined)
    return reason === undefined ? { up: true, leader: this.elector.isLeader } : { up: false, reason, leader: this.elector.isLeader }
  }

  private problemChanged(source: 'lease' | 'pass', reason: string | undefined): void {
    if (source === 'pass') {
      if (reason === this.passProblem) return
      this.passProblem = reason
    }
    if (reason !== undefined) this.log?.error({ reason }, 'the background audit cannot run')
    else this.log?.info({ source }, 'the background audit can run again')
  }

  start(): void {
    this.elector.start()
    // react to changes sooner than the interval (debounced), e.g. a parent Service's new selector
    this.view.onChange(() => {
      if (!this.elector.isLeader || this.earlyPass) return
      this.earlyPass = true
      setTimeout(() => {
        this.earlyPass = false
        this.schedule(0)
      }, this.o.reactAfterMs ?? 1000).unref()
    })
  }

  private earlyPass = false

  private lead(): void {
    this.auditor = new Auditor(this.view, undefined, this.o.implementation, this.o.ownership)
    this.sink = undefined
    this.schedule(0)
  }

  private follow(): void {
    clearTimeout(this.timer)
    this.auditor = undefined
    this.problemChanged('pass', undefined)
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer)
    this.timer = setTimeout(() => void this.tick(), ms)
    this.timer.unref()
  }

  private async tick(): Promise<void> {
    if (!this.elector.isLeader || !this.auditor) return
    if (!this.ready()) return this.schedule(500)
    try {
      await this.runOnce()
    } catch (e) {
      this.problemChanged('pass', `audit pass failed: ${apiError(e)}`)
    }
    if (this.elector.isLeader) this.schedule(this.o.intervalMs ?? 60_000)
  }

  /** One audit pass (the leader's); writes the namespaces whose findings changed. */
  async runOnce(): Promise<void> {
    if (this.running || !this.auditor) return
    this.running = true
    try {
      const started = process.hrtime.bigint()
      const pass = this.auditor.run()
      if (pass.overDeadline.length) this.log?.warn({ objects: pass.overDeadline.slice(0, 10).map((id) => shorten(id)), count: pass.overDeadline.length }, 'audit: objects too large to judge within the per-object deadline (their earlier findings stand; routeguard analyze judges them)')
      // without the report CRD, discovery is asked again every pass: installing it is picked up
      if (this.sink?.kind !== 'PolicyReport') {
        const next = await this.chooseSink()
        if (this.sink && next.kind === 'PolicyReport') {
          // every namespace with findings gets its first report
          for (const f of this.auditor.all()) this.pendingNamespaces.add(f.resource.namespace)
        }
        if (!this.sink || next.kind !== this.sink.kind) this.sink = next
      }
      for (const ns of pass.changedNamespaces) this.pendingNamespaces.add(ns)
      this.pendingAdded.push(...pass.added)
      const byNs = new Map<string, ReturnType<Auditor['inNamespace']>>()
      for (const ns of this.pendingNamespaces) byNs.set(ns, this.auditor.inNamespace(ns))
      await this.sink.write(byNs, this.pendingAdded)
      this.pendingNamespaces.clear()
      this.pendingAdded = []
      const seconds = Number(process.hrtime.bigint() - started) / 1e9
      this.findingsGauge.reset()
      for (const f of this.auditor.all()) this.findingsGauge.inc({ code: f.code })
      this.durationGauge.set(seconds)
      this.lastRunGauge.set(Date.now() / 1000)
      if (this.o.reconciler) await this.o.reconciler.reconcile()
      if (this.o.collectStrays) {
        try {
          const n = await this.o.collectStrays()
          if (n) this.log?.info({ deleted: n }, 'audit: expired claims collected')
        } catch (e) {
          this.log?.warn({ err: (e as Error).message }, 'audit: claims could not be listed')
        }
      }
      this.passes++
      this.problemChanged('pass', this.sink.kind !== 'Event' ? undefined : `no report CRD is installed (${OPEN_REPORT.group}/${OPEN_REPORT.version} Report, ${WG_POLICY_REPORT.group}/${WG_POLICY_REPORT.version} PolicyReport): findings are written as Warning Events only`)
      this.log?.info({ evaluated: pass.evaluated, changedNamespaces: pass.changedNamespaces.size, added: pass.added.length, sink: this.sink.kind, seconds }, 'audit pass')
    } finally {
      this.running = false
    }
  }

  private async chooseSink(): Promise<ReportSink> {
    // openreports.io is where Kyverno and Policy Reporter are moving: preferred when both are served
    const { served } = await discover(this.kc, [OPEN_REPORT_KIND, POLICY_REPORT_KIND])
    if (served.some((k) => k.group === OPEN_REPORT.group)) return new PolicyReportSink(this.kc, OPEN_REPORT)
    return served.length ? new PolicyReportSink(this.kc, WG_POLICY_REPORT) : new EventSink(this.kc, this.o.identity)
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer)
    await this.elector.stop()
  }
}

