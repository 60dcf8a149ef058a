/**
 * manifests/base/webhooks.yaml (issue #13): the rules send each path only the kinds it acts on, and
 * the `matchConditions` CEL expressions, evaluated with cel-js the way the API server evaluates
 * them (variables `object`, `oldObject`, `request`), call /mutate only for objects that could
 * get a subset Service and /validate only for writes that change what rules read.
 */
import { readFileSync } from 'node:fs'
import { evaluate } from '@marcbachmann/cel-js'
import t from 'tap'
import { parseAllDocuments } from 'yaml'
import { SUBJECT_KINDS } from '../src/rules/index.js'
import { missingForRoute, optedIn } from '../src/subsets/subsets.js'
import { ClusterView } from '../src/view/view.js'
import { review, virtualService } from './helpers.js'

const docs = parseAllDocuments(readFileSync('manifests/base/webhooks.yaml', 'utf8')).map((d) => d.toJS())
const webhook = (kind: string) => docs.find((d) => d.kind === kind).webhooks[0]
const validating = webhook('ValidatingWebhookConfiguration')
const mutating = webhook('MutatingWebhookConfiguration')

/** Does the API server call this webhook for `req`? Every matchCondition must be true; an error throws. */
function called(w: any, req: any): boolean {
  const ctx = { object: req.object, oldObject: req.oldObject, request: req }
  return w.matchConditions.every((c: { expression: string }) => {
    const v = evaluate(c.expression, ctx)
    if (typeof v !== 'boolean') throw new Error(`${c.expression}: not a bool: ${v}`)
    return v
  })
}

const GROUP_OF: Record<string, string> = { 'networking.istio.io': 'networking.istio.io', 'gateway.networking.k8s.io': 'gateway.networking.k8s.io' }
/** `group/Kind` keys the webhook's rules send (plural resources mapped back to kinds). */
function kindsSent(w: any): string[] {
  const kindOf: Record<string, string> = { virtualservices: 'VirtualService', destinationrules: 'DestinationRule', httproutes: 'HTTPRoute', grpcroutes: 'GRPCRoute' }
  return w.rules.flatMap((r: any) =>
    r.apiGroups.flatMap((g: string) =>
      r.resources.map((res: string) => {
        if (res === 'gateways') return g === 'networking.istio.io' ? 'networking.istio.io/Gateway' : 'gateway.networking.k8s.io/Gateway'
        return `${GROUP_OF[g]}/${kindOf[res]}`
      }),
    ),
  )
}

const route = (backends: string[], extra: Record<string, unknown> = {}) => ({
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'HTTPRoute',
  metadata: { name: 'reviews', namespace: 'default', generation: 1 },
  spec: { parentRefs: [{ kind: 'Service', name: 'reviews' }], rules: [{ backendRefs: backends.map((name) => ({ name, port: 9080 })), ...extra }] },
})
const destinationRule = (annotations?: Record<string, string>) => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'DestinationRule',
  metadata: { name: 'reviews', namespace: 'default', generation: 1, ...(annotations ? { annotations } : {}) },
  spec: { host: 'reviews', subsets: [{ name: 'v2', labels: { version: 'v2' } }] },
})

t.test('rules: /validate gets the kinds rules judge, /mutate routes and DestinationRules only; CREATE and UPDATE', async (t) => {
  const v = kindsSent(validating)
  t.same(v.sort(), ['gateway.networking.k8s.io/GRPCRoute', 'gateway.networking.k8s.io/Gateway', 'gateway.networking.k8s.io/HTTPRoute', 'networking.istio.io/DestinationRule', 'networking.istio.io/Gateway', 'networking.istio.io/VirtualService'])
  for (const k of v) t.ok(SUBJECT_KINDS.has(k), `${k} is judged by some rule`)
  t.same(kindsSent(mutating).sort(), ['gateway.networking.k8s.io/GRPCRoute', 'gateway.networking.k8s.io/HTTPRoute', 'networking.istio.io/DestinationRule'])
  for (const w of [validating, mutating]) {
    for (const r of w.rules) t.same(r.operations, ['CREATE', 'UPDATE'])
    t.notOk(w.rules.some((r: any) => r.resources.some((x: string) => x.includes('/'))), 'no subresources (status writes are not sent)')
  }
  t.equal(mutating.reinvocationPolicy, 'Never')
  t.ok(validating.namespaceSelector && mutating.namespaceSelector)
})

t.test('/mutate matchConditions: called for an HTTPRoute naming reviews-v2, not for a VirtualService', async (t) => {
  // the mutator's own view of the same objects: what it would generate
  const view = new ClusterView()
  view.upsert({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'reviews', namespace: 'default' }, spec: { selector: { app: 'reviews' }, ports: [{ port: 9080 }] } })
  view.upsert(destinationRule())
  const cases: [string, any, boolean][] = [
    ['HTTPRoute naming reviews-v2', review(route(['reviews-v2'])), true],
    ['GRPCRoute naming reviews-v2', review({ ...route(['reviews-v2']), kind: 'GRPCRoute' }), true],
    ['HTTPRoute mirroring to reviews-v2', review(route(['reviews'], { filters: [{ type: 'RequestMirror', requestMirror: { backendRef: { name: 'reviews-v2', port: 9080 } } }] })), true],
    ['HTTPRoute UPDATE naming reviews-v2', review(route(['reviews-v2']), { operation: 'UPDATE' }), true],
    ['HTTPRoute naming only reviews', review(route(['reviews'])), false],
    ['HTTPRoute naming a ServiceImport reviews-v2', review(route([]).spec.rules[0] && { ...route([]), spec: { rules: [{ backendRefs: [{ group: 'multicluster.x-k8s.io', kind: 'ServiceImport', name: 'reviews-v2' }] }] } }), false],
    ['HTTPRoute with no rules', review({ ...route([]), spec: { parentRefs: [] } }), false],
    ['HTTPRoute with a backendRef missing its name (schema not checked yet)', review({ ...route([]), spec: { rules: [{ backendRefs: [{ port: 1 }] }] } }), false],
    ['VirtualService', review(virtualService('default', 'reviews-v2', ['reviews-v2'])), false],
    ['DestinationRule opted in', review(destinationRule({ 'routeguard.io/subset-services': 'true' })), true],
    ['DestinationRule not opted in', review(destinationRule()), false],
    ['DestinationRule with other annotations', review(destinationRule({ other: 'true' })), false],
  ]
  for (const [name, r, want] of cases) t.equal(called(mutating, r.request), want, name)
  // and the conditions agree with what the mutator does on those objects
  t.ok(missingForRoute(view, route(['reviews-v2'])).length > 0, 'the mutator would generate reviews-v2')
  t.equal(missingForRoute(view, route(['reviews'])).length, 0, 'and nothing for a route naming only reviews')
  t.ok(optedIn(destinationRule({ 'routeguard.io/subset-services': 'true' })))
})

t.test('/validate matchConditions: every CREATE; an UPDATE only when the generation moved', async (t) => {
  const vs = virtualService('default', 'reviews', ['reviews'])
  const at = (g: number | undefined, extra: Record<string, unknown> = {}) => ({ ...vs, metadata: { ...vs.metadata, ...(g === undefined ? {} : { generation: g }), ...extra } })
  t.equal(called(validating, review(at(1)).request), true, 'CREATE')
  t.equal(called(validating, review(at(2), { operation: 'UPDATE', oldObject: at(1) }).request), true, 'UPDATE of the spec (generation 1 → 2)')
  t.equal(called(validating, review(at(1, { labels: { a: 'b' }, finalizers: ['x'] }), { operation: 'UPDATE', oldObject: at(1) }).request), false, 'metadata-only UPDATE (same generation)')
  t.equal(called(validating, review(at(undefined), { operation: 'UPDATE', oldObject: at(1) }).request), true, 'no generation: called (never an evaluation error)')
  t.equal(called(validating, review(at(1), { operation: 'UPDATE', oldObject: at(undefined) }).request), true)
})
