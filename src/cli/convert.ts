/**
 * `routeguard convert`: `convert` (src/convert) on the loaded objects, validated against the
 * target's CRDs when given (`--crds`, `--kubeconfig`). Exit 1 with --strict on any loss.
 */
import { type Command, Option } from 'commander'
import { stringify } from 'yaml'
import { convert, DEFAULT_GATEWAY_API_RELEASE, GATEWAY_API_RELEASES, regrant, releaseTarget, targetFromCrds } from '../convert/convert.js'
import { type K8sObject, nameOf, nsOf } from '../model/object.js'
import { duplicateProblems, loadObjects } from '../analyze/load.js'
import { type ExitCode, fail, type Io } from './io.js'

export function registerConvert(program: Command, io: Io, exit: ExitCode): void {
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
      for (const p of loaded.problems) io.stderr.write(`${p.source.file}:${p.source.line}: ${p.message}\n`)
      let crds: K8sObject[] | undefined
      if (o.kubeconfig) {
        try {
          const { loadKubeConfig, gatewayApiCrds } = await import('../cluster/client.js')
          crds = await gatewayApiCrds(loadKubeConfig(o.kubeconfig)!)
        } catch (e) {
          fail(`cannot read the cluster's CRDs: ${(e as Error).message}`, 1)
        }
        if (crds.length === 0) fail('the cluster serves no Gateway API CRDs (gateway.networking.k8s.io)', 1)
      } else if (o.crds) {
        const read = loadObjects([o.crds], 'default')
        crds = read.objects.map((c) => c.object).filter((c) => c.kind === 'CustomResourceDefinition')
        if (read.problems.length || crds.length === 0) fail(`--crds ${o.crds}: no CustomResourceDefinitions there${read.problems[0] ? ` (${read.problems[0].message})` : ''}`)
      }
      const release = releaseTarget(o.gatewayApiVersion as string)
      const { objects, gaps } = convert(loaded.objects.map((l) => l.object), crds ? targetFromCrds(crds, release) : release)
      let written = objects
      let held = 0
      if (crds) {
        const { checkOutput } = await import('../convert/validate-output.js')
        const checked = checkOutput(objects, crds)
        written = regrant(checked.valid)
        held = checked.held.length
        for (const h of checked.held) io.stderr.write(`RG0302: ${h.object.kind} ${nsOf(h.object)}/${nameOf(h.object)}: does not validate against the target's CRDs, not written: ${h.problems.join('; ')}\n`)
      } else {
        io.stderr.write(`routeguard: the output was not validated (give the target's Gateway API CRDs with --crds DIR or --kubeconfig FILE); written for Gateway API ${o.gatewayApiVersion}${o.strict ? '; --strict: not validated is a loss' : ''}\n`)
        held = o.strict ? 1 : 0
      }
      io.stdout.write(written.map((obj) => stringify(obj)).join('---\n'))
      for (const g of gaps) io.stderr.write(`RG0302: ${g.resource} ${g.path}: ${g.feature}: ${g.detail}\n`)
      exit.code = loaded.problems.length ? 2 : o.strict && (gaps.length || held) ? 1 : 0
    })
}
