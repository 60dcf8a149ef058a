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
