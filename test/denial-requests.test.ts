/**
 * Denials that name a concrete request (issue #16): IST0109, RG0101 and RG0103 end with one request
 * the new object's match selects and where it goes today, traced with the routing models that
 * `routeguard trace` runs. Over TLS against the webhook, the view seeded with --state.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { post, review, startTestServer, tempDir } from './helpers.js'

const STATE = `
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: default}
spec: {selector: {app: reviews}, ports: [{name: http, port: 9080}]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews}
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: ingress, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["*/shop.example.com"]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: cart, namespace: shop}
spec:
  hosts: [shop.example.com]
  gateways: [istio-system/ingress]
  http:
  - match:
    - uri: {prefix: /cart}
    route:
    - destination: {host: cart.shop.svc.cluster.local}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: web, namespace: infra}
spec:
  gatewayClassName: istio
  listeners:
  - {name: http, port: 80, protocol: HTTP, allowedRoutes: {namespaces: {from: All}}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: api-a, namespace: team-a}
spec:
  parentRefs: [{name: web, namespace: infra}]
  hostnames: [api.example.com]
  rules:
  - matches:
    - path: {type: PathPrefix, value: /api}
      headers: [{name: x-env, value: prod}]
    backendRefs: [{name: api, port: 8080}]
`

const deny = async (s: Awaited<ReturnType<typeof startTestServer>>, obj: unknown) => {
  const r = await post(s.agent, `${s.url}/validate`, review(obj))
  return r.body.response as { allowed: boolean; status?: { message: string } }
}

t.test('IST0109, RG0101 and RG0103 denials name one request and where it goes', async (t) => {
  const dir = tempDir(t)
  writeFileSync(join(dir, 'state.yaml'), STATE)
  const s = await startTestServer(t, { state: [join(dir, 'state.yaml')] })

  const ist0109 = await deny(s, { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'reviews-canary', namespace: 'default' }, spec: { hosts: ['reviews.default.svc.cluster.local'], http: [{ route: [{ destination: { host: 'reviews' } }] }] } })
  t.equal(ist0109.allowed, false)
  t.match(ist0109.status?.message, /IST0109: .* GET http:\/\/reviews\.default\.svc\.cluster\.local\/ from namespace default goes to VirtualService default\/reviews rule 0 today\./)

  const rg0101 = await deny(s, { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'cart-v2', namespace: 'shop' }, spec: { hosts: ['shop.example.com'], gateways: ['istio-system/ingress'], http: [{ match: [{ uri: { prefix: '/cart' } }], route: [{ destination: { host: 'cart-v2.shop.svc.cluster.local' } }] }] } })
  t.equal(rg0101.allowed, false)
  t.match(rg0101.status?.message, /RG0101: .*: GET http:\/\/shop\.example\.com\/cart goes to VirtualService shop\/cart rule 0 today\./)

  const rg0103 = await deny(s, { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'api-b', namespace: 'team-b' }, spec: { parentRefs: [{ name: 'web', namespace: 'infra' }], hostnames: ['api.example.com'], rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/api' }, headers: [{ name: 'x-env', value: 'prod' }] }], backendRefs: [{ name: 'api', port: 8080 }] }] } })
  t.equal(rg0103.allowed, false)
  t.match(rg0103.status?.message, /RG0103: .*: GET http:\/\/api\.example\.com\/api with x-env: prod goes to HTTPRoute team-a\/api-a rule 0 and never to this rule\./)
})
