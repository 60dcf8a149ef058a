/**
 * Where audit results go. With the `openreports.io/v1alpha1` Report CRD served (where Kyverno and
 * Policy Reporter are moving), one Report `routeguard` per namespace; else with the
 * `wgpolicyk8s.io/v1alpha2` PolicyReport CRD, one PolicyReport (the two have the same results
 * shape); both written with server-side apply (fieldManager `routeguard`). Without either,
 * Kubernetes Events (type Warning, reason = rule code) on the offending objects, one per distinct
 * finding, with a deterministic name so that repeats and restarts do not duplicate them.
 */
import { createHash } from 'node:crypto'
import * as k8s from '@kubernetes/client-node'
import type { Finding } from '../rules/types.js'

export const FIELD_MANAGER = 'routeguard'
export const REPORT_NAME = 'routeguard'

/** A report kind routeguard writes: group, version, plural, kind. */
export interface ReportKind {
  group: string
  version: string
  plural: string
  kind: 'Report' | 'PolicyReport'
}

/** `openreports.io/v1alpha1` Report: preferred when served. */
export const OPEN_REPORT: ReportKind = { group: 'openreports.io', version: 'v1alpha1', plural: 'reports', kind: 'Report' }
/** `wgpolicyk8s.io/v1alpha2` PolicyReport: the older home of the same shape. */
export const WG_POLICY_REPORT: ReportKind = { group: 'wgpolicyk8s.io', version: 'v1alpha2', plural: 'policyreports', kind: 'PolicyReport' }

export interface ReportSink {
  readonly kind: 'Report' | 'PolicyReport' | 'Event'
  /** Writes the current findings of each namespace in `namespaces`, and events for `added`. */
  write(namespaces: Map<string, Finding[]>, added: Finding[]): Promise<void>
}

const SEVERITY = { error: 'high', warning: 'medium', info: 'info' } as const
const RESULT = { error: 'fail', warning: 'warn', info: 'warn' } as const

/** The report document (PolicyReport, or openreports Report with `kind`) for one namespace. */
export function policyReport(namespace: string, findings: Finding[], now = new Date(), kind: ReportKind = WG_POLICY_REPORT): Record<string, unknown> {
  const timestamp = { seconds: Math.floor(now.getTime() / 1000), nanos: 0 }
  const results = findings.map((f) => ({
    policy: 'routeguard',
    rule: f.code,
    category: f.name,
    result: RESULT[f.severity],
    severity: SEVERITY[f.severity],
    message: f.message,
    source: 'routeguard',
    scored: true,
    timestamp,
    resources: [{ apiVersion: f.resource.apiVersion ?? '', kind: f.resource.kind, namespace: f.resource.namespace, name: f.resource.name }],
    properties: {
      ...(f.path ? { path: f.path } : {}),
      ...(f.related.length ? { related: f.related.map((r) => `${r.kind} ${r.namespace}/${r.name}`).join(', ') } : {}),
    },
  }))
  const count = (r: string) => results.filter((x) => x.result === r).length
  return {
    apiVersion: `${kind.group}/${kind.version}`,
    kind: kind.kind,
    metadata: { name: REPORT_NAME, namespace, labels: { 'app.kubernetes.io/managed-by': 'routeguard' } },
    summary: { pass: 0, fail: count('fail'), warn: count('warn'), error: 0, skip: 0 },
    results,
  }
}

export class PolicyReportSink implements ReportSink {
  readonly kind: ReportKind['kind']
  private readonly api: k8s.CustomObjectsApi

  constructor(
    kc: k8s.KubeConfig,
    private readonly report: ReportKind = WG_POLICY_REPORT,
  ) {
    this.api = kc.makeApiClient(k8s.CustomObjectsApi)
    this.kind = report.kind
  }

  async write(namespaces: Map<string, Finding[]>): Promise<void> {
    for (const [namespace, findings] of namespaces) {
      if (!namespace) continue // cluster-scoped objects have no namespaced report
      await this.api.patchNamespacedCustomObject(
        { group: this.report.group, version: this.report.version, namespace, plural: this.report.plural, name: REPORT_NAME, body: policyReport(namespace, findings, new Date(), this.report), fieldManager: FIELD_MANAGER, force: true },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.ServerSideApply),
      )
    }
  }
}

export class EventSink implements ReportSink {
  readonly kind = 'Event' as const
  private readonly api: k8s.CoreV1Api
  private readonly emitted = new Set<string>()

  constructor(
    kc: k8s.KubeConfig,
    private readonly instance: string,
  ) {
    this.api = kc.makeApiClient(k8s.CoreV1Api)
  }

  async write(_namespaces: Map<string, Finding[]>, added: Finding[]): Promise<void> {
    for (const f of added) {
      const hash = createHash('sha256').update(`${f.code}|${f.path ?? ''}|${f.message}`).digest('hex').slice(0, 10)
      const name = `${f.resource.name}.${f.code.toLowerCase()}.${hash}`
      const key = `${f.resource.namespace}/${name}`
      if (this.emitted.has(key) || !f.resource.namespace) continue
      const now = new Date()
      try {
        await this.api.createNamespacedEvent({
          namespace: f.resource.namespace,
          body: {
            metadata: { name, namespace: f.resource.namespace },
            involvedObject: { apiVersion: f.resource.apiVersion, kind: f.resource.kind, name: f.resource.name, namespace: f.resource.namespace },
            reason: f.code,
            message: f.message.slice(0, 1024),
            type: 'Warning',
            source: { component: 'routeguard' },
            reportingComponent: 'routeguard',
            reportingInstance: this.instance,
            firstTimestamp: now,
            lastTimestamp: now,
            count: 1,
          },
        })
      } catch (e) {
        if ((e as { code?: number }).code !== 409) throw e // AlreadyExists: emitted before a restart
      }
      this.emitted.add(key)
    }
  }
}
