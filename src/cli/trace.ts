/**
 * `routeguard trace`: which route, rule and backend serve one request (`routing/trace.ts`), from
 * files or a cluster.
 */
import { type Command, Option } from 'commander'
import { nameOf, nsOf } from '../model/object.js'
import { duplicateProblems, type LoadResult, loadObjects } from '../analyze/load.js'
import { CliExit, type ExitCode, fail, type Io } from './io.js'

export function registerTrace(program: Command, io: Io, exit: ExitCode): void {
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
      const { trace, formatTrace, traceExitCode, TraceUsageError } = await import('../routing/trace.js')
      const { ClusterView } = await import('../view/view.js')
      let loaded: LoadResult
      if (o.kubeconfig) {
        try {
          const { loadKubeConfig, snapshot } = await import('../cluster/client.js')
          const snap = await snapshot(loadKubeConfig(o.kubeconfig)!)
          loaded = { objects: snap.objects.map((object) => ({ object, source: { file: 'cluster', line: 0 } })), problems: [] }
        } catch (e) {
          fail(`cannot read the cluster: ${(e as Error).message}`, 1)
        }
      } else {
        if (!paths.length) fail('trace needs PATH... or --kubeconfig')
        const read = loadObjects(paths, o.namespace)
        loaded = { ...read, problems: [...read.problems, ...duplicateProblems(read.objects)] }
        for (const p of loaded.problems) io.stderr.write(`${p.source.file}:${p.source.line}: ${p.message}\n`)
        if (loaded.problems.length) throw new CliExit(2)
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
        io.stdout.write(`${JSON.stringify({ status, route, backends, backendRequest, redirect, candidates, ...rest }, null, 2)}\n`)
      } else io.stdout.write(`${formatTrace(result, source)}\n`)
      exit.code = traceExitCode(result)
    })
}
