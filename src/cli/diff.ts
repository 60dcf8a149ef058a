/**
 * `routeguard diff`: which requests a change moves, and from whom (`impact/diff.ts`). Two states
 * of the configuration: `diff BEFORE AFTER` (files or folders), or `diff --kubeconfig FILE
 * PATHS...` (the cluster as it is against the cluster with PATHS applied and `--delete` PATHS
 * removed, like `kubectl diff`). Exit 0 when no request changes, 1 when some do, 2 on usage
 * errors or unreadable input, as `diff` and `kubectl diff` do.
 */
import { type Command, Option } from 'commander'
import { duplicateProblems, type LoadedObject, loadObjects } from '../analyze/load.js'
import { type K8sObject, kindKeyOf, nameOf, nsOf } from '../model/object.js'
import { CliExit, type ExitCode, fail, type Io } from './io.js'

/** Registers `diff` on the program; sets `exit.code` 0 (nothing changes) or 1 (requests change). */
export function registerDiff(program: Command, io: Io, exit: ExitCode): void {
  program
    .command('diff')
    .description('which requests a change moves, and from whom: BEFORE AFTER (files or folders), or --kubeconfig FILE PATHS... (the cluster against the cluster with PATHS applied)')
    .argument('[paths...]', 'BEFORE AFTER; with --kubeconfig, the files to apply')
    .option('--kubeconfig <file>', 'compare the cluster as it is (read-only) with the cluster with PATHS applied')
    .option('--delete <path>', 'with --kubeconfig: objects (files or folders) removed by the change (repeatable)', (v: string, all: string[]) => [...all, v], [] as string[])
    .option('-n, --namespace <ns>', 'namespace for objects that set none', 'default')
    .option('--config <file>', "the webhook's configuration: with ownership set, RG0106 takeovers are listed too")
    .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json', 'markdown']).default('text'))
    .action(async (paths: string[], o) => {
      const { ClusterView } = await import('../view/view.js')
      const { diffViews, diffJSON, diffMarkdown, diffSummary, diffText } = await import('../impact/diff.js')
      const read = (p: string[], what: string): LoadedObject[] => {
        const r = loadObjects(p, o.namespace)
        const problems = [...r.problems, ...duplicateProblems(r.objects)]
        for (const x of problems) io.stderr.write(`${x.source.file}:${x.source.line}: ${x.message}\n`)
        if (problems.length) throw new CliExit(2)
        if (r.objects.length === 0 && what !== 'delete') fail(`no Kubernetes objects in ${p.join(' ')}`)
        return r.objects
      }
      let ownership
      if (o.config) {
        const { ConfigError, loadConfig } = await import('../config/config.js')
        try {
          ownership = loadConfig(o.config).policy.ownership
        } catch (e) {
          fail(e instanceof ConfigError ? e.message : `--config ${o.config}: ${(e as Error).message}`)
        }
      }
      const before = new ClusterView()
      const after = new ClusterView()
      if (o.kubeconfig) {
        if (!paths.length && !o.delete.length) fail('diff --kubeconfig needs the PATHS to apply (or --delete PATHS)')
        let objects: K8sObject[]
        try {
          const { loadKubeConfig, snapshot } = await import('../cluster/client.js')
          objects = (await snapshot(loadKubeConfig(o.kubeconfig)!)).objects
        } catch (e) {
          fail(`cannot read the cluster: ${(e as Error).message}`, 1)
        }
        for (const obj of objects) {
          before.upsert(obj)
          after.upsert(obj)
        }
        for (const { object } of paths.length ? read(paths, 'apply') : []) after.upsert(applied(object, before))
        for (const { object } of o.delete.length ? read(o.delete, 'delete') : []) {
          const kind = kindKeyOf(object)
          const held = kind ? after.get(kind, nsOf(object), nameOf(object)) : undefined
          if (held) after.remove(held)
        }
      } else {
        if (paths.length !== 2) fail('diff needs BEFORE and AFTER (files or folders), or --kubeconfig FILE PATHS...')
        if (o.delete.length) fail('--delete goes with --kubeconfig; without it, leave the objects out of AFTER')
        for (const { object } of read([paths[0]!], 'before')) before.upsert(object)
        for (const { object } of read([paths[1]!], 'after')) after.upsert(applied(object, before))
      }
      const d = diffViews(before, after, ownership)
      if (o.output === 'json') io.stdout.write(`${JSON.stringify(diffJSON(d), null, 2)}\n`)
      else if (o.output === 'markdown') io.stdout.write(`${diffMarkdown(d)}\n`)
      else {
        const text = diffText(d)
        if (text) io.stdout.write(`${text}\n`)
      }
      io.stderr.write(`${diffSummary(d)}\n`)
      exit.code = d.impact.moves.length || d.takeovers.length ? 1 : 0
    })
}

/**
 * An object as the API server would store it over what `before` holds: an existing object keeps
 * its creationTimestamp (its age decides route precedence and ownership), a new one has none yet
 * (the newest of all).
 */
function applied(object: K8sObject, before: { get(kind: string, ns: string, name: string): K8sObject | undefined }): K8sObject {
  const kind = kindKeyOf(object)
  const held = kind ? before.get(kind, nsOf(object), nameOf(object)) : undefined
  const ts = held?.metadata?.creationTimestamp
  if (!ts || object.metadata?.creationTimestamp) return object
  return { ...object, metadata: { ...object.metadata, creationTimestamp: ts } }
}
