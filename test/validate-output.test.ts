/** convert's output check (src/convert/validate-output.ts) with a small CRD written here: schema, CEL, versions, built-in kinds. */
import t from 'tap'
import { checkOutput } from '../src/convert/validate-output.js'

const crd = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'httproutes.gateway.networking.k8s.io' },
  spec: {
    group: 'gateway.networking.k8s.io',
    names: { kind: 'HTTPRoute' },
    versions: [
      { name: 'v1', served: true, schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { timeout: { type: 'string', pattern: '^([0-9]{1,5}(h|m|s|ms)){1,4}$' }, port: { type: 'integer' } }, 'x-kubernetes-validations': [{ rule: 'has(self.port)', message: 'Must have port' }] } } } } },
      { name: 'v1beta1', served: false, schema: { openAPIV3Schema: { type: 'object' } } },
    ],
  },
}
const route = (spec: unknown, version = 'v1') => ({ apiVersion: `gateway.networking.k8s.io/${version}`, kind: 'HTTPRoute', metadata: { name: 'r', namespace: 'n' }, spec })

t.test('what validates is kept, the rest held back with why', async (t) => {
  const service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 's', namespace: 'n' } }
  const r = checkOutput([route({ timeout: '500ms', port: 80 }), route({ timeout: '0.5s', port: 80 }), route({ timeout: '1s' }), route({ port: 1 }, 'v1beta1'), { ...route({}), kind: 'TCPRoute' }, service] as never, [crd] as never)
  t.equal(r.valid.length, 2, 'the valid route and the Service')
  t.ok(r.valid.includes(service as never), 'built-in kinds are not CRD-validated')
  t.match(r.held.map((h) => h.problems.join('; ')), [/\/spec\/timeout must match pattern/, /Must have port/, /v1beta1 is not served/, /no CustomResourceDefinition for gateway\.networking\.k8s\.io TCPRoute/])
})

t.test('convert --kubeconfig reads the CRDs from the cluster and validates against them', async (t) => {
  const { writeFileSync } = await import('node:fs')
  const { join } = await import('node:path')
  const { APIEXTENSIONS_RESOURCES, CORE_RESOURCES, FakeApiServer } = await import('./fake-apiserver.js')
  const { runCli, tempDir } = await import('./helpers.js')
  const api = new FakeApiServer([...CORE_RESOURCES, ...APIEXTENSIONS_RESOURCES])
  await api.start()
  t.teardown(() => api.stop())
  // a rule of this cluster's CRD that convert knows nothing of: only validation against it catches it
  const backendRef = { type: 'object', 'x-kubernetes-validations': [{ rule: '!has(self.port) || self.port != 9080', message: 'port 9080 is reserved in this cluster' }] }
  const ruleSchema = { type: 'object', properties: { backendRefs: { type: 'array', items: backendRef } } }
  const schema = { type: 'object', properties: { spec: { type: 'object', properties: { rules: { type: 'array', items: ruleSchema } } } } }
  const routeCrd = { ...crd, spec: { ...crd.spec, versions: [{ name: 'v1', served: true, schema: { openAPIV3Schema: schema } }] } }
  api.put(routeCrd as never)
  const dir = tempDir(t)
  writeFileSync(join(dir, 'kubeconfig'), JSON.stringify(api.kubeconfig()))
  writeFileSync(join(dir, 'vs.yaml'), 'apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: reviews, namespace: default}\nspec:\n  hosts: [reviews]\n  http: [{route: [{destination: {host: reviews, port: {number: 9080}}}]}]\n')
  const run = (args: string[]) => runCli(['convert', ...args])
  const r = await run([join(dir, 'vs.yaml'), '--kubeconfig', join(dir, 'kubeconfig')])
  t.equal(r.code, 0, r.stderr)
  t.match(r.stderr, /RG0302: HTTPRoute default\/reviews: does not validate against the target's CRDs, not written: .*port 9080 is reserved in this cluster/, "held back by the cluster's CEL rule")
  t.notMatch(r.stdout, /HTTPRoute/)
  t.ok(api.requests.some((q) => q.path === '/apis/apiextensions.k8s.io/v1/customresourcedefinitions'), 'listed the CRDs')
  t.equal((await run([join(dir, 'vs.yaml'), '--strict'])).code, 1, '--strict without CRDs: not validated is a loss')
})

t.test('CRD patterns and CEL matches() run on RE2, as the API server runs them: Go flags, and no backtracking on an object value', async (t) => {
  const { validatorFor } = await import('../src/crd/validate.js')
  const schema = {
    type: 'object',
    properties: {
      // nested quantifiers: JavaScript's RegExp takes exponential time on `a…a!`
      name: { type: 'string', pattern: '^(a+)+$' },
      // Go's inline flag, which JavaScript's RegExp does not know in this place
      method: { type: 'string', pattern: '^(?i)[a-z]+$' },
    },
    'x-kubernetes-validations': [{ rule: "!has(self.name) || self.name.matches('^(a+)+$')", message: 'name must be a…a' }],
  }
  const v = validatorFor({ spec: { versions: [{ name: 'v1', schema: { openAPIV3Schema: schema } }] } }, 'v1')
  const hostile = v({ name: `${'a'.repeat(64)}!` })
  t.equal(hostile.ok, false, 'a…a! does not match, and the check returns')
  t.ok(hostile.errors.some((e) => e.keyword === 'pattern'), 'the schema pattern failed')
  t.same(hostile.cel, ['(root): name must be a…a'], 'the CEL rule failed')
  t.equal(v({ name: 'aaaa', method: 'GET' }).ok, true, '(?i) applies: GET matches [a-z]+')
  t.throws(() => validatorFor({ spec: { versions: [{ name: 'v1', schema: { openAPIV3Schema: { type: 'string', pattern: '(?=x)' } } }] } }, 'v1'), /not valid RE2/, 'a pattern RE2 refuses fails the schema')
})
