/**
 * The monitoring overlay (issue #17, item 7): every metric the PrometheusRule alerts and the Grafana
 * dashboard query is one the server exports, with the labels the queries select on. A server in
 * cluster mode (the loopback API server, the audit on, a --config file) answers a review, then
 * /metrics is scraped. Reads the overlay's files in the clone directly (no kubectl).
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import * as k8s from '@kubernetes/client-node'
import t from 'tap'
import { parse } from 'yaml'
import { CORE_RESOURCES, FakeApiServer, GATEWAY_API_RESOURCES, ISTIO_RESOURCES, POLICY_REPORT_RESOURCES } from './fake-apiserver.js'
import { eventually, get, post, review, startTestServer, tempDir, virtualService } from './helpers.js'

const DIR = 'manifests/overlays/monitoring'
/** Prometheus' own series, not routeguard's */
const PROMETHEUS_SERIES = new Set(['up'])

const rule = parse(readFileSync(join(DIR, 'prometheusrule.yaml'), 'utf8')) as { spec: { groups: { rules: { alert: string; expr: string }[] }[] } }
const dashboard = JSON.parse(readFileSync(join(DIR, 'dashboard.json'), 'utf8')) as { panels: { title: string; targets: { expr: string }[] }[]; templating: { list: { query?: unknown }[] } }

const queries: { where: string; expr: string }[] = [
  ...rule.spec.groups.flatMap((g) => g.rules.map((r) => ({ where: `alert ${r.alert}`, expr: r.expr }))),
  ...dashboard.panels.flatMap((p) => p.targets.map((x) => ({ where: `panel "${p.title}"`, expr: x.expr }))),
  ...dashboard.templating.list.flatMap((v) => (typeof (v.query as { query?: string })?.query === 'string' ? [{ where: 'dashboard variable', expr: (v.query as { query: string }).query }] : [])),
]

/** Metric names in a PromQL expression: identifiers followed by `{`, `[`, `)` or a space, not functions or keywords. */
function metricsIn(expr: string): string[] {
  const names = new Set<string>()
  for (const m of expr.matchAll(/\b([a-z_][a-z0-9_]*)\b(?=\s*(\{|\[|\)|\s|$|==|>|<|,))/g)) {
    const n = m[1]!
    if (n.startsWith('routeguard_') || PROMETHEUS_SERIES.has(n)) names.add(n)
  }
  return [...names]
}

/** Label matchers `name="value"` / `name=~"…"` inside the braces that follow `metric`. */
function matchersOf(expr: string, metric: string): string[] {
  const out: string[] = []
  for (const m of expr.matchAll(new RegExp(`${metric}\\{([^}]*)\\}`, 'g'))) for (const l of m[1]!.matchAll(/([a-z_]+)\s*=~?/g)) out.push(l[1]!)
  return out
}

t.test('the queries name metrics (so the check below means something)', async (t) => {
  t.ok(rule.spec.groups[0]!.rules.length >= 6, 'alerts: errors, latency, denials, certificate, view stale, config')
  for (const a of ['RouteguardWebhookErrors', 'RouteguardLatencyOverBudget', 'RouteguardDenialsSpike', 'RouteguardCertificateExpiresSoon', 'RouteguardViewStale']) t.ok(rule.spec.groups[0]!.rules.some((r) => r.alert === a), a)
  t.same(metricsIn('histogram_quantile(0.99, sum by (le) (rate(routeguard_admission_duration_seconds_bucket{job=~"$job"}[5m])))'), ['routeguard_admission_duration_seconds_bucket'])
  t.same(matchersOf('rate(routeguard_x{decision="denied", job=~"a"}[5m])', 'routeguard_x'), ['decision', 'job'])
  for (const q of queries) t.ok(metricsIn(q.expr).length > 0, `${q.where} queries a metric`)
})

t.test('every metric the alerts and the dashboard query is exported by /metrics', async (t) => {
  const api = new FakeApiServer([...CORE_RESOURCES, ...ISTIO_RESOURCES, ...GATEWAY_API_RESOURCES, ...POLICY_REPORT_RESOURCES])
  await api.start()
  t.teardown(() => api.stop())
  const kc = new k8s.KubeConfig()
  kc.loadFromString(JSON.stringify(api.kubeconfig()))
  const dir = tempDir(t)
  const configPath = join(dir, 'config.yaml')
  writeFileSync(configPath, 'rules: {}\n')
  const s = await startTestServer(t, { kubeConfig: kc, configPath, audit: { identity: 'replica-a', intervalMs: 200, leaseDurationSeconds: 2, renewIntervalMs: 500, retryIntervalMs: 200 } })
  await eventually(async () => (await get(s.agent, `${s.url}/readyz`)).status === 200)
  const r = await post(s.agent, `${s.url}/validate`, review(virtualService('default', 'reviews', ['reviews'])))
  t.equal(r.status, 200)
  // the audit has run once it reports its findings gauge
  const text = await eventually(async () => {
    const m = (await get(s.agent, `${s.url}/metrics`)).text
    return m.includes('routeguard_audit_last_run_timestamp_seconds ') && m.includes('routeguard_admission_duration_seconds_bucket') ? m : undefined
  })
  if (!text) return t.fail('no audit pass and no admission histogram in /metrics')
  const families = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!))
  const samples = new Set([...text.matchAll(/^([a-z_][a-z0-9_]*)(?:\{|\s)/gm)].map((m) => m[1]!))
  const labelsOf = (metric: string) => new Set([...text.matchAll(new RegExp(`^${metric}\\{([^}]*)\\}`, 'gm'))].flatMap((m) => [...m[1]!.matchAll(/([a-z_]+)="/g)].map((l) => l[1]!)))
  for (const q of queries) {
    for (const metric of metricsIn(q.expr)) {
      if (PROMETHEUS_SERIES.has(metric)) continue
      t.ok(families.has(metric) || samples.has(metric), `${q.where}: ${metric} is exported`)
      // `job` (and `pod`) are target labels Prometheus adds; the rest must be routeguard's
      for (const label of matchersOf(q.expr, metric).filter((l) => l !== 'job' && l !== 'pod')) t.ok(labelsOf(metric).has(label), `${q.where}: ${metric} has label ${label}`)
    }
  }
})
