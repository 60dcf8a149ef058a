/**
 * `routeguard analyze`: `loadObjects` → `analyzeObjects` → `withFieldLines`, then text (istioctl's
 * layout), JSON/YAML (with predicted route status) or SARIF. Exit 1 on findings at the failure
 * threshold, 2 on unreadable input.
 */
import { type Command, Option } from 'commander'
import { stringify } from 'yaml'
import { resolveImplementation } from '../features/features.js'
import { predictRouteStatus, ROUTE_KINDS } from '../status/route-status.js'
import { groupOf, kindKeyOf, nameOf, nsOf } from '../model/object.js'
import { analyzeObjects, bySource, formatText, selectRules } from '../analyze/analyze.js'
import { duplicateProblems, type LoadResult, loadObjects, merge, parseObjects } from '../analyze/load.js'
import { isSuppressed, parseSuppression, type Suppression } from '../analyze/suppress.js'
import { nodesBySource, withFieldLines } from '../analyze/lines.js'
import { toSarif } from '../analyze/sarif.js'
import { asAdmission, type Policy } from '../policy.js'
import { ConfigError, loadConfig } from '../config/config.js'
import { type ExitCode, fail, type Io } from './io.js'
import { packageVersion } from './version.js'

/** istioctl's threshold levels, and where each finding severity stands among them. */
const LEVELS = { Info: 0, Warning: 1, Error: 2 } as const
const LEVELS_BY_SEVERITY = { info: 0, warning: 1, error: 2 } as const

/** `loadObjects` where the path `-` is standard input (read whole, as YAML or JSON). */
function readWithStdin(paths: string[], namespace: string, io: Io): LoadResult {
  const files = loadObjects(paths.filter((p) => p !== '-'), namespace)
  return merge([files, parseObjects(io.readStdin(), '<stdin>')], [], namespace)
}

export function registerAnalyze(program: Command, io: Io, exit: ExitCode): void {
  program
    .command('analyze')
    .description('check YAML/JSON files offline with the webhook rules; exit 1 on error-level findings')
    .argument('[paths...]', 'files or folders (multi-document YAML, JSON, List kinds)')
    .addOption(new Option('-o, --output <format>', 'output format (sarif: SARIF 2.1.0, for code-scanning UIs)').choices(['text', 'json', 'yaml', 'sarif']).default('text'))
    .option('--config <file>', 'the webhook\'s configuration: findings take the action admission would (deny: Error, warn: Warning, off: not shown), with its exemptNamespaces and exceptions')
    .option('--rules <names>', 'only these rule codes or Istio analyzer names, comma-separated')
    .option('-S, --suppress <spec>', 'suppress a code, or a code for resources, istioctl\'s syntax: CODE, CODE=Kind name.namespace or CODE=Kind namespace/name, * as wildcard (repeatable)', (v: string, all: string[]) => [...all, v], [] as string[])
    .addOption(new Option('--failure-threshold <level>', 'exit 1 when a finding is at this level or above').choices(['Error', 'Warning', 'Info']).default('Error'))
    .addOption(new Option('--output-threshold <level>', 'print findings at this level or above').choices(['Error', 'Warning', 'Info']))
    .option('--migration', 'show RG0302 (no Gateway API equivalent), hidden unless asked for', false)
    .option('-n, --namespace <ns>', 'namespace for objects that set none', 'default')
    .option('--kubeconfig <file>', 'analyze what is in this cluster (read-only) instead of files')
    .option('--implementation <name[@version]>', 'Gateway API implementation for RG0301', 'istio')
    .action(async (paths: string[], o) => {
      let implementation
      try {
        implementation = resolveImplementation(o.implementation)
      } catch (e) {
        fail(`--implementation: ${(e as Error).message}`)
      }
      let rules
      // RG0106 is no view rule (it judges routes by what they take, with --config's ownership)
      const named = o.rules ? String(o.rules).split(',').map((s: string) => s.trim()).filter(Boolean) : undefined
      const takeovers = !named || named.includes('RG0106')
      try {
        const others = named?.filter((n) => n !== 'RG0106')
        rules = named ? (others!.length ? selectRules(others!) : []) : undefined
      } catch (e) {
        fail((e as Error).message)
      }
      let suppressions: Suppression[] = []
      try {
        suppressions = (o.suppress as string[]).map(parseSuppression)
      } catch (e) {
        fail((e as Error).message)
      }
      let policy: Policy | undefined
      if (o.config) {
        try {
          policy = loadConfig(o.config).policy
        } catch (e) {
          fail(e instanceof ConfigError ? e.message : `--config ${o.config}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`)
        }
      }
      let loaded
      if (o.kubeconfig) {
        try {
          const { loadKubeConfig, snapshot } = await import('../cluster/client.js')
          const kc = loadKubeConfig(o.kubeconfig)!
          const snap = await snapshot(kc)
          loaded = { objects: snap.objects.map((object) => ({ object, source: { file: 'cluster', line: 0 } })), problems: [] }
        } catch (e) {
          fail(`cannot read the cluster: ${(e as Error).message}`)
        }
      } else {
        if (!paths.length) fail('analyze needs PATH... (- for standard input) or --kubeconfig')
        loaded = paths.includes('-') ? readWithStdin(paths, o.namespace, io) : loadObjects(paths, o.namespace)
        loaded = { ...loaded, problems: [...loaded.problems, ...duplicateProblems(loaded.objects)] }
        // nothing to analyze is not a clean result: an empty folder, or no .yaml/.yml/.json in it
        if (loaded.objects.length === 0 && loaded.problems.length === 0) fail(`no Kubernetes objects in ${paths.join(' ')} (files ending .yaml, .yml or .json)`)
      }
      const all = analyzeObjects(loaded.objects, { rules, implementation, ...(takeovers && policy?.ownership ? { ownership: policy.ownership } : {}) })
      const { view } = all
      let kept = withFieldLines(all.findings.filter((f) => !isSuppressed(f, suppressions)), nodesBySource(loaded.objects)).sort(bySource)
      if (policy) kept = asAdmission(policy, kept, (f) => view.get(`${groupOf(f.resource.apiVersion)}/${f.resource.kind}`, f.resource.namespace, f.resource.name), Date.now())
      // RG0302 is migration advice: shown with --migration or when Info output is asked for
      const outputLevel = LEVELS[(o.outputThreshold ?? 'Info') as keyof typeof LEVELS]
      const findings = kept.filter((f) => LEVELS_BY_SEVERITY[f.severity] >= outputLevel && (f.code !== 'RG0302' || o.migration || o.outputThreshold === 'Info'))
      const failing = kept.some((f) => LEVELS_BY_SEVERITY[f.severity] >= LEVELS[o.failureThreshold as keyof typeof LEVELS] && (f.code !== 'RG0302' || o.migration))
      if (o.output === 'sarif') {
        for (const p of loaded.problems) io.stderr.write(`${p.source.file}:${p.source.line}: ${p.message}\n`)
        io.stdout.write(`${JSON.stringify(toSarif(findings, packageVersion()), null, 2)}\n`)
      } else if (o.output === 'json' || o.output === 'yaml') {
        // predicted Accepted/ResolvedRefs per route and parentRef, as a controller would set them
        const routes = [...view.all()]
          .filter((obj) => ROUTE_KINDS.includes(kindKeyOf(obj) as (typeof ROUTE_KINDS)[number]))
          .map((obj) => ({ kind: obj.kind, namespace: nsOf(obj), name: nameOf(obj), parents: predictRouteStatus(obj, view).parents }))
        const doc = { findings, routes, problems: loaded.problems }
        io.stdout.write(o.output === 'json' ? `${JSON.stringify(doc, null, 2)}\n` : stringify(doc))
      } else {
        for (const p of loaded.problems) io.stderr.write(`${p.source.file}:${p.source.line}: ${p.message}\n`)
        if (findings.length) io.stdout.write(`${formatText(findings)}\n`)
      }
      // the summary goes to stderr in every format, so stdout stays the document
      const count = (s: string) => findings.filter((f) => f.severity === s).length
      const hidden = all.findings.length - findings.length
      io.stderr.write(
        `${findings.length} finding(s) in ${loaded.objects.length} object(s): ${count('error')} error(s), ${count('warning')} warning(s), ${count('info')} info${hidden ? `; ${hidden} suppressed or below the output threshold` : ''}\n`,
      )
      exit.code = loaded.problems.length ? 2 : failing ? 1 : 0
    })
}
