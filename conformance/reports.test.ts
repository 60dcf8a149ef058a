/**
 * The audit's reports validate against their CRDs in ../shared/crds/policy-reports: an
 * `openreports.io/v1alpha1` Report and a `wgpolicyk8s.io/v1alpha2` PolicyReport built from real
 * findings (analyze over the rule fixtures: errors, warnings and info, with paths and related
 * objects), by ajv on each CRD's openAPIV3Schema plus its CEL rules.
 */
import { join } from 'node:path'
import t from 'tap'
import { analyzeObjects } from '../src/analyze/analyze.js'
import { loadObjects } from '../src/analyze/load.js'
import { OPEN_REPORT, policyReport, type ReportKind, WG_POLICY_REPORT } from '../src/audit/report.js'
import { crdValidator } from '../src/crd/validate.js'

const SHARED = process.env.SHARED_DIR ?? '../shared'

const validator = (file: string, version: string) => crdValidator(join(SHARED, 'crds/policy-reports', file), version)

const { findings } = analyzeObjects(loadObjects(['test/fixtures/rules'], 'default').objects)
const byNamespace = new Map<string, typeof findings>()
for (const f of findings) byNamespace.set(f.resource.namespace, [...(byNamespace.get(f.resource.namespace) ?? []), f])

const cases: [ReportKind, string][] = [
  [OPEN_REPORT, 'openreports.io_reports.yaml'],
  [WG_POLICY_REPORT, 'wgpolicyk8s.io_policyreports.yaml'],
]
for (const [kind, file] of cases) {
  t.test(`${kind.group}/${kind.version} ${kind.kind} validates against ${file}`, async (t) => {
    const check = validator(file, kind.version)
    t.ok(findings.length > 20 && new Set(findings.map((f) => f.severity)).size === 3, 'findings of every level')
    for (const [ns, fs] of byNamespace) {
      if (!ns) continue
      const doc = policyReport(ns, fs, new Date(), kind)
      const r = check(doc)
      t.ok(r.ok, `${ns}: schema${r.ok ? '' : ` ${JSON.stringify(r.errors.slice(0, 3))}`}`)
      t.same(r.cel, [], `${ns}: CEL rules`)
    }
  })
}
