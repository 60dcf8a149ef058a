#!/usr/bin/env node
/**
 * routeguard's command line: `serve`, `certs`, `analyze`, `docs`. Exit codes: 0 success,
 * 1 findings at error level (analyze), 2 usage errors or unreadable input.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Command, CommanderError, Option } from 'commander'
import { parseDocument, stringify } from 'yaml'
import { convert, DEFAULT_GATEWAY_API_RELEASE, GATEWAY_API_RELEASES, routeVersionsFromCrds } from './convert/convert.js'
import { resolveImplementation } from './features/features.js'
import { predictRouteStatus, ROUTE_KINDS } from './rules/route-status.js'
import { groupOf, type K8sObject, kindKeyOf, nameOf, nsOf } from './model/object.js'
import { analyzeObjects, bySource, formatText, selectRules } from './analyze/analyze.js'
import { duplicateProblems, type LoadResult, loadObjects, merge, parseObjects } from './analyze/load.js'
import { isSuppressed, parseSuppression, type Suppression } from './analyze/suppress.js'
import { withFieldLines } from './analyze/lines.js'
import { toSarif } from './analyze/sarif.js'
import { asAdmission, type Policy } from './policy.js'
import { caBundle, CERT_FILES, certificatesExist, generateCertificates, writeCertificates } from './certs/certs.js'
import { ConfigError, loadConfig } from './config/config.js'
import { renderRulesDoc } from './docs.js'
import { hostname } from 'node:os'

const program = new Command()
program
  .name('routeguard')
  .description('Admission webhook that blocks conflicting Istio and Gateway API routing config')
  .version(packageVersion(), '--version', 'print the version')
  .exitOverride()

/** The version in package.json (next to dist/). */
function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version
  } catch {
    return 'unknown'
  }
}

/** istioctl's threshold levels, and where each finding severity stands among them. */
const LEVELS = { Info: 0, Warning: 1, Error: 2 } as const
const LEVELS_BY_SEVERITY = { info: 0, warning: 1, error: 2 } as const

/** `loadObjects` where the path `-` is standard input (read whole, as YAML or JSON). */
/** Files and standard input (`-`); `texts` gets standard input's text, for the lines of fields. */
function readWithStdin(paths: string[], namespace: string, texts: Map<string, string>): LoadResult {
  const files = loadObjects(paths.filter((p) => p !== '-'), namespace)
  const stdin = readFileSync(0, 'utf8')
  texts.set('<stdin>', stdin)
  return merge([files, parseObjects(stdin, '<stdin>')], [], namespace)
}

program
  .command('serve')
  .description('run the HTTPS admission webhook (standalone: view seeded from --state and kept by admitted changes)')
  .option('--host <host>', 'address to listen on', '127.0.0.1')
  .option('--port <port>', 'port to listen on', (v) => parsePort(v), 8443)
  .option('--tls-cert <file>', 'serving certificate (PEM); reloaded when it changes', 'certs/tls.crt')
  .option('--tls-key <file>', 'serving key (PEM)', 'certs/tls.key')
  .option('--state <paths...>', 'YAML/JSON files or folders that seed the view', [])
  .option('--config <file>', 'configuration file (YAML): rules, exemptNamespaces, exceptions, failurePolicy; reloaded when it changes (an invalid new file keeps the last good one)')
  .option('--kubeconfig <file>', 'cluster mode: keep the view with informers against this cluster (in-cluster config is detected)')
  .option('--standalone', 'standalone mode even inside a Pod (without it, a Pod without a usable service-account token is an error)')
  .option('--implementation <name[@version]>', 'Gateway API implementation for RG0301 (istio, envoy-gateway, cilium, nginx-gateway-fabric, kgateway, agentgateway, linkerd)')
  .option('--max-staleness <seconds>', 'cluster mode: /readyz fails when a watch is down longer than this', (v) => positive(v, '--max-staleness'), 60)
  .addOption(new Option('--unsynced <policy>', 'cluster mode: answer while the view is not synced').choices(['deny', 'allow']).default('deny'))
  .option('--audit-interval <seconds>', 'cluster mode: seconds between background audit passes', (v) => positive(v, '--audit-interval'), 60)
  .option('--no-audit', 'cluster mode: do not run the background audit')
  .option('--pending-ttl <seconds>', 'cluster mode: seconds an admitted object is judged against before the informers deliver it (0: off)', (v) => nonNegative(v, '--pending-ttl'), 5)
  .option('--review-deadline <ms>', 'ms one review may hold the event loop while it is judged; past it the review is answered per failurePolicy as too large to judge', (v) => positive(v, '--review-deadline'), 100)
  .option('--lease-namespace <ns>', 'cluster mode: namespace of the audit leader Lease and of the claims', 'routeguard-system')
  .option('--claims', 'cluster mode: claim conflict keys as Leases in the API server before admitting, so that several replicas give one answer')
  .option('--claim-timeout <ms>', 'cluster mode with --claims: ms one claim may take before the review follows failurePolicy', (v) => positive(v, '--claim-timeout'), 1000)
  .option('--identity <name>', 'cluster mode: this replica in the leader Lease (default: $POD_NAME or the hostname)')
  .addOption(new Option('--log-level <level>', 'log level').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'))
  .option('--generate-certs', 'create a development CA and serving certificate next to --tls-cert when missing', false)
  .addOption(new Option('--noop-route', 'serve POST /noop as a benchmark baseline').hideHelp())
  .option('--shutdown-grace <seconds>', 'seconds to let in-flight reviews finish on SIGTERM', (v) => positive(v, '--shutdown-grace'), 10)
  .option('--request-timeout <seconds>', 'a request (headers and body) must arrive within this', (v) => positive(v, '--request-timeout'), 10)
  .option('--handshake-timeout <seconds>', 'a TLS handshake must finish within this', (v) => positive(v, '--handshake-timeout'), 10)
  .option('--max-connections <n>', 'open connections at most on the webhook port; more are closed before TLS', (v) => positive(v, '--max-connections'), 1000)
  .option('--client-ca <file>', 'require client certificates signed by this CA (PEM) on the webhook port')
  .option('--probe-port <port>', 'also serve /healthz, /readyz and /metrics over plain HTTP on this port (unaffected by floods of the webhook port and by --client-ca)', (v) => port(v, '--probe-port'))
  .action(async (o) => {
    // the server's modules (Fastify, client-node, prom-client: ~1 s to load) only for `serve`
    const [{ startServe }, { loadKubeConfig }] = await Promise.all([import('./serve.js'), import('./cluster/client.js')])
    let config
    try {
      config = o.config ? loadConfig(o.config) : undefined
    } catch (e) {
      fail(e instanceof ConfigError ? e.message : `--config: ${(e as Error).message}`)
    }
    let implementation
    try {
      implementation = resolveImplementation(o.implementation ?? config?.implementation ?? 'istio')
    } catch (e) {
      fail(`--implementation: ${(e as Error).message}`)
    }
    let kubeConfig
    try {
      kubeConfig = loadKubeConfig(o.kubeconfig, { standalone: o.standalone === true })
    } catch (e) {
      fail(o.kubeconfig ? `--kubeconfig: ${(e as Error).message}` : (e as Error).message)
    }
    let server
    try {
      server = await startServe({
        kubeConfig,
        implementation,
        audit: o.audit ? { intervalMs: o.auditInterval * 1000, leaseNamespace: o.leaseNamespace, identity: o.identity ?? process.env.POD_NAME ?? hostname() } : undefined,
        maxStalenessMs: o.maxStaleness * 1000,
        pendingTtlMs: o.pendingTtl * 1000,
        reviewDeadlineMs: o.reviewDeadline,
        claims: o.claims ? { namespace: o.leaseNamespace, identity: o.identity ?? process.env.POD_NAME ?? hostname(), timeoutMs: o.claimTimeout, durationSeconds: Math.max(1, Math.ceil(o.pendingTtl)) } : undefined,
        unsynced: o.unsynced,
        host: o.host,
        port: o.port,
        tlsCert: o.tlsCert,
        tlsKey: o.tlsKey,
        state: o.state,
        config,
        configPath: o.config,
        logLevel: o.logLevel,
        generateCerts: o.generateCerts,
        shutdownGraceMs: o.shutdownGrace * 1000,
        timeouts: { requestMs: o.requestTimeout * 1000, handshakeMs: o.handshakeTimeout * 1000 },
        maxConnections: o.maxConnections,
        clientCa: o.clientCa,
        probePort: o.probePort,
        noopRoute: o.noopRoute === true,
      })
    } catch (e) {
      fail(`cannot start: ${(e as Error).message}`)
    }
    server.app.log.info({ url: server.url, mode: kubeConfig ? 'cluster' : 'standalone' }, 'routeguard webhook listening')
    const stop = async (signal: string) => {
      server.app.log.info({ signal }, 'shutting down')
      // exit within the grace whatever is in flight (close() cuts what is left at the grace; this
      // is the backstop should anything keep the loop alive past it)
      setTimeout(() => process.exit(0), o.shutdownGrace * 1000 + 500).unref()
      await server.close()
      process.exit(0)
    }
    process.once('SIGTERM', () => void stop('SIGTERM'))
    process.once('SIGINT', () => void stop('SIGINT'))
  })

program
  .command('certs')
  .description('write a CA and a serving certificate (ca.crt, tls.crt, tls.key) for the webhook Service')
  .option('--out <dir>', 'directory to write into', 'certs')
  .option('--service <name>', 'webhook Service name', 'routeguard')
  .option('--namespace <ns>', 'webhook Service namespace', 'routeguard-system')
  .option('--force', 'overwrite existing files', false)
  .option('--ca-bundle', 'print the base64 CA (for caBundle) from --out and exit', false)
  .option('--patch-manifests <file>', 'write the caBundle from --out into the webhook configurations in this file (a copy of yours: the tracked manifests keep caBundle empty)')
  .option('--kubeconfig <file>', 'keep the CA and serving certificate in Secrets of this cluster, renew before expiry, set caBundle in the webhook configurations')
  .option('--in-cluster', 'as --kubeconfig, with the Pod\'s service account (the routeguard-certs Job and CronJob)', false)
  .option('--renew-before <duration>', 'with --kubeconfig/--in-cluster: renew when the serving certificate expires within this (60d, 720h)', '60d')
  .option('--ca-secret <name>', 'with --kubeconfig/--in-cluster: Secret holding the CA', 'routeguard-ca')
  .option('--tls-secret <name>', 'with --kubeconfig/--in-cluster: Secret holding the serving certificate', 'routeguard-tls')
  .option('--webhook-name <name>', 'with --kubeconfig/--in-cluster: name of the webhook configurations to give the caBundle', 'routeguard')
  .action(async (o) => {
    if (o.kubeconfig || o.inCluster) {
      const [{ loadKubeConfig }, { ensureClusterCertificates, parseRenewBefore }] = await Promise.all([import('./cluster/client.js'), import('./certs/cluster-certs.js')])
      let renewBeforeMs: number
      try {
        renewBeforeMs = parseRenewBefore(o.renewBefore)
      } catch (e) {
        fail((e as Error).message)
      }
      let kc
      try {
        kc = o.kubeconfig ? loadKubeConfig(o.kubeconfig) : loadKubeConfig(undefined, {})
      } catch (e) {
        fail((e as Error).message, 1)
      }
      if (!kc) fail('--in-cluster: not in a Pod (KUBERNETES_SERVICE_HOST is not set); pass --kubeconfig FILE', 1)
      try {
        const r = await ensureClusterCertificates(kc, { namespace: o.namespace, service: o.service, caSecret: o.caSecret, tlsSecret: o.tlsSecret, webhookName: o.webhookName, renewBeforeMs })
        process.stdout.write(`${JSON.stringify({ msg: 'certificates checked', namespace: o.namespace, ...r })}\n`)
      } catch (e) {
        fail((e as Error).message, 1)
      }
      return
    }
    if (o.caBundle) {
      try {
        process.stdout.write(`${caBundle(o.out)}\n`)
      } catch (e) {
        fail(`no CA in ${o.out}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message} (run 'routeguard certs' first)`)
      }
      return
    }
    if (o.patchManifests) {
      const file: string = o.patchManifests
      let bundle: string
      try {
        bundle = caBundle(o.out)
      } catch {
        fail(`no CA in ${o.out} (run 'routeguard certs' first)`)
      }
      const n = patchCaBundle(file, bundle)
      process.stderr.write(`wrote caBundle into ${n} webhook(s) in ${file}\n`)
      return
    }
    if (certificatesExist(o.out) && !o.force) fail(`${o.out} already holds certificates; use --force to replace them`)
    writeCertificates(o.out, generateCertificates({ service: o.service, namespace: o.namespace }))
    process.stderr.write(`wrote ${Object.values(CERT_FILES).map((f) => join(o.out, f)).join(', ')} for ${o.service}.${o.namespace}.svc\n`)
  })

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
    try {
      rules = o.rules ? selectRules(String(o.rules).split(',').map((s: string) => s.trim()).filter(Boolean)) : undefined
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
    const texts = new Map<string, string>()
    let loaded
    if (o.kubeconfig) {
      try {
        const { loadKubeConfig, snapshot } = await import('./cluster/client.js')
        const kc = loadKubeConfig(o.kubeconfig)!
        const snap = await snapshot(kc)
        loaded = { objects: snap.objects.map((object) => ({ object, source: { file: 'cluster', line: 0 } })), problems: [] }
      } catch (e) {
        fail(`cannot read the cluster: ${(e as Error).message}`)
      }
    } else {
      if (!paths.length) fail('analyze needs PATH... (- for standard input) or --kubeconfig')
      loaded = paths.includes('-') ? readWithStdin(paths, o.namespace, texts) : loadObjects(paths, o.namespace)
      loaded = { ...loaded, problems: [...loaded.problems, ...duplicateProblems(loaded.objects)] }
      // nothing to analyze is not a clean result: an empty folder, or no .yaml/.yml/.json in it
      if (loaded.objects.length === 0 && loaded.problems.length === 0) fail(`no Kubernetes objects in ${paths.join(' ')} (files ending .yaml, .yml or .json)`)
    }
    const all = analyzeObjects(loaded.objects, { rules, implementation })
    const { view } = all
    let kept = withFieldLines(all.findings.filter((f) => !isSuppressed(f, suppressions)), texts).sort(bySource)
    if (policy) kept = asAdmission(policy, kept, (f) => view.get(`${groupOf(f.resource.apiVersion)}/${f.resource.kind}`, f.resource.namespace, f.resource.name), Date.now())
    // RG0302 is migration advice: shown with --migration or when Info output is asked for
    const outputLevel = LEVELS[(o.outputThreshold ?? 'Info') as keyof typeof LEVELS]
    const findings = kept.filter((f) => LEVELS_BY_SEVERITY[f.severity] >= outputLevel && (f.code !== 'RG0302' || o.migration || o.outputThreshold === 'Info'))
    const failing = kept.some((f) => LEVELS_BY_SEVERITY[f.severity] >= LEVELS[o.failureThreshold as keyof typeof LEVELS] && (f.code !== 'RG0302' || o.migration))
    if (o.output === 'sarif') {
      for (const p of loaded.problems) process.stderr.write(`${p.source.file}:${p.source.line}: ${p.message}\n`)
      process.stdout.write(`${JSON.stringify(toSarif(findings, packageVersion()), null, 2)}\n`)
    } else if (o.output === 'json' || o.output === 'yaml') {
      // predicted Accepted/ResolvedRefs per route and parentRef, as a controller would set them
      const routes = [...view.all()]
        .filter((obj) => ROUTE_KINDS.includes(kindKeyOf(obj) as (typeof ROUTE_KINDS)[number]))
        .map((obj) => ({ kind: obj.kind, namespace: nsOf(obj), name: nameOf(obj), parents: predictRouteStatus(obj, view).parents }))
      const doc = { findings, routes, problems: loaded.problems }
      process.stdout.write(o.output === 'json' ? `${JSON.stringify(doc, null, 2)}\n` : stringify(doc))
    } else {
      for (const p of loaded.problems) process.stderr.write(`${p.source.file}:${p.source.line}: ${p.message}\n`)
      if (findings.length) process.stdout.write(`${formatText(findings)}\n`)
      const count = (s: string) => findings.filter((f) => f.severity === s).length
      const hidden = all.findings.length - findings.length
      process.stderr.write(
        `${findings.length} finding(s) in ${loaded.objects.length} object(s): ${count('error')} error(s), ${count('warning')} warning(s), ${count('info')} info${hidden ? `; ${hidden} suppressed or below the output threshold` : ''}\n`,
      )
    }
    process.exitCode = loaded.problems.length ? 2 : failing ? 1 : 0
  })

program
  .command('convert')
  .description('convert VirtualServices (+ DestinationRules, Istio Gateways, Services for context) to Gateway API routes on stdout')
  .argument('<paths...>', 'files or folders')
  .option('-n, --namespace <ns>', 'namespace for objects that set none', 'default')
  .option('--strict', 'exit 1 when any feature is dropped or approximated (RG0302)', false)
  .addOption(new Option('--gateway-api-version <release>', 'the Gateway API release to write for (route versions), when no --crds').choices(Object.keys(GATEWAY_API_RELEASES)).default(DEFAULT_GATEWAY_API_RELEASE))
  .option('--crds <dir>', 'the target\'s Gateway API CRDs (YAML files): the route versions they serve, and what the output is validated against')
  .option('--kubeconfig <file>', 'read the target\'s Gateway API CRDs from this cluster (read-only), as --crds')
  .action(async (paths: string[], o) => {
    const read = loadObjects(paths, o.namespace)
    const loaded = { ...read, problems: [...read.problems, ...duplicateProblems(read.objects)] }
    for (const p of loaded.problems) process.stderr.write(`${p.source.file}:${p.source.line}: ${p.message}\n`)
    let routeVersions = GATEWAY_API_RELEASES[o.gatewayApiVersion as string]!
    let crds: K8sObject[] | undefined
    if (o.kubeconfig) {
      try {
        const { loadKubeConfig, gatewayApiCrds } = await import('./cluster/client.js')
        crds = await gatewayApiCrds(loadKubeConfig(o.kubeconfig)!)
      } catch (e) {
        fail(`cannot read the cluster's CRDs: ${(e as Error).message}`, 1)
      }
      if (crds.length === 0) fail('the cluster serves no Gateway API CRDs (gateway.networking.k8s.io)', 1)
      routeVersions = routeVersionsFromCrds(crds)
    } else if (o.crds) {
      const read = loadObjects([o.crds], 'default')
      crds = read.objects.map((c) => c.object).filter((c) => c.kind === 'CustomResourceDefinition')
      if (read.problems.length || crds.length === 0) fail(`--crds ${o.crds}: no CustomResourceDefinitions there${read.problems[0] ? ` (${read.problems[0].message})` : ''}`)
      routeVersions = routeVersionsFromCrds(crds)
    }
    const { objects, gaps } = convert(loaded.objects.map((l) => l.object), { routeVersions })
    let written = objects
    let held = 0
    if (crds) {
      const { checkOutput } = await import('./convert/validate-output.js')
      const checked = checkOutput(objects, crds)
      written = checked.valid
      held = checked.held.length
      for (const h of checked.held) process.stderr.write(`RG0302: ${h.object.kind} ${nsOf(h.object)}/${nameOf(h.object)}: does not validate against the target's CRDs, not written: ${h.problems.join('; ')}\n`)
    } else {
      process.stderr.write(`routeguard: the output was not validated (give the target's Gateway API CRDs with --crds DIR or --kubeconfig FILE); written for Gateway API ${o.gatewayApiVersion}${o.strict ? '; --strict: not validated is a loss' : ''}\n`)
      held = o.strict ? 1 : 0
    }
    process.stdout.write(written.map((obj) => stringify(obj)).join('---\n'))
    for (const g of gaps) process.stderr.write(`RG0302: ${g.resource} ${g.path}: ${g.feature}: ${g.detail}\n`)
    process.exitCode = loaded.problems.length ? 2 : o.strict && (gaps.length || held) ? 1 : 0
  })

program
  .command('trace')
  .description('which route, rule and backend serve one request, and what lost: through a Gateway or inside the mesh')
  .argument('[paths...]', 'files or folders (like analyze); or --kubeconfig')
  .requiredOption('--url <url>', 'the request: scheme://host[:port]/path?query (host as the client writes it: reviews, reviews.bookinfo, an FQDN)')
  .option('-X, --request <method>', 'HTTP method', 'GET')
  .option('-H, --header <header>', "request header 'Name: value' (repeatable)", (v: string, all: string[]) => [...all, v], [] as string[])
  .option('--sni <name>', 'TLS server name (default: the host, for https)')
  .option('--gateway <gateway>', 'through this Gateway: [KIND/]NAMESPACE/NAME[:PORT], KIND gateway.networking.k8s.io or networking.istio.io')
  .option('--from <namespace>', 'inside the mesh, from a client in this namespace')
  .option('-n, --namespace <ns>', 'namespace for objects that set none', 'default')
  .option('--kubeconfig <file>', 'trace against what is in this cluster (read-only) instead of files')
  .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text'))
  .action(async (paths: string[], o) => {
    const { trace, formatTrace, traceExitCode, TraceUsageError } = await import('./routing/trace.js')
    const { ClusterView } = await import('./view/view.js')
    let loaded: LoadResult
    if (o.kubeconfig) {
      try {
        const { loadKubeConfig, snapshot } = await import('./cluster/client.js')
        const snap = await snapshot(loadKubeConfig(o.kubeconfig)!)
        loaded = { objects: snap.objects.map((object) => ({ object, source: { file: 'cluster', line: 0 } })), problems: [] }
      } catch (e) {
        fail(`cannot read the cluster: ${(e as Error).message}`, 1)
      }
    } else {
      if (!paths.length) fail('trace needs PATH... or --kubeconfig')
      const read = loadObjects(paths, o.namespace)
      loaded = { ...read, problems: [...read.problems, ...duplicateProblems(read.objects)] }
      for (const p of loaded.problems) process.stderr.write(`${p.source.file}:${p.source.line}: ${p.message}\n`)
      if (loaded.problems.length) process.exit(2)
      if (loaded.objects.length === 0) fail(`no Kubernetes objects in ${paths.join(' ')}`)
    }
    const view = new ClusterView()
    const sources = new Map<string, string>()
    for (const { object, source } of loaded.objects) {
      view.upsert(object)
      if (source.file !== 'cluster') sources.set(`${String(object.kind)}|${nsOf(object)}|${nameOf(object)}`, `${source.file}:${source.line}`)
    }
    let result
    try {
      result = trace(view, { url: o.url, method: o.request, headers: o.header, sni: o.sni, gateway: o.gateway, from: o.from })
    } catch (e) {
      if (e instanceof TraceUsageError) fail(e.message)
      throw e
    }
    const source = (kind: string, namespace: string, name: string) => sources.get(`${kind}|${namespace}|${name}`)
    if (o.output === 'json') {
      const route = result.route ? { ...result.route, ...(source(result.route.kind, result.route.namespace, result.route.name) ? { source: source(result.route.kind, result.route.namespace, result.route.name) } : {}) } : null
      const { status, backends, backendRequest, redirect, candidates, route: _route, ...rest } = result
      process.stdout.write(`${JSON.stringify({ status, route, backends, backendRequest, redirect, candidates, ...rest }, null, 2)}\n`)
    } else process.stdout.write(`${formatTrace(result, source)}\n`)
    process.exitCode = traceExitCode(result)
  })

program
  .command('docs')
  .description('print docs/rules.md, generated from the message catalogue')
  .action(() => {
    process.stdout.write(renderRulesDoc())
  })

function parsePort(v: string): number {
  const n = Number(v)
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new CommanderError(2, 'routeguard.port', `--port: not a port number: ${v}`)
  return n
}

function positive(v: string, flag: string): number {
  const n = Number(v)
  if (!Number.isFinite(n) || n <= 0) throw new CommanderError(2, 'routeguard.number', `${flag}: not a positive number: ${v}`)
  return n
}

function nonNegative(v: string, flag: string): number {
  const n = Number(v)
  if (!Number.isFinite(n) || n < 0) throw new CommanderError(2, 'routeguard.number', `${flag}: not a number ≥ 0: ${v}`)
  return n
}

function port(v: string, flag: string): number {
  const n = Number(v)
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new CommanderError(2, 'routeguard.port', `${flag}: not a port number: ${v}`)
  return n
}

/** Prints `routeguard: message` on stderr and exits: 2 (usage, the default) or 1 (the work failed). */
function fail(message: string, code: 1 | 2 = 2): never {
  process.stderr.write(`routeguard: ${message}\n`)
  process.exit(code)
}

/** Sets `caBundle` on every webhook of the (Validating|Mutating)WebhookConfigurations in `file`. */
function patchCaBundle(file: string, bundle: string): number {
  const text = readFileSync(file, 'utf8')
  let n = 0
  const docs = text.split(/^---\s*$/m).map((part) => {
    if (!part.trim()) return part
    const doc = parseDocument(part)
    const kind = doc.get('kind')
    if (kind !== 'ValidatingWebhookConfiguration' && kind !== 'MutatingWebhookConfiguration') return part
    const webhooks = doc.get('webhooks') as { items: unknown[] } | undefined
    webhooks?.items.forEach((_w, i) => {
      doc.setIn(['webhooks', i, 'clientConfig', 'caBundle'], bundle)
      n++
    })
    return `${part.startsWith('\n') ? '\n' : ''}${doc.toString()}`
  })
  writeFileSync(file, docs.join('---\n'))
  return n
}

try {
  await program.parseAsync(process.argv)
} catch (e) {
  if (e instanceof CommanderError) process.exit(e.exitCode === 0 ? 0 : 2)
  process.stderr.write(`routeguard: ${(e as Error).message}\n`)
  process.exit(2)
}
