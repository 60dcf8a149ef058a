/** The rule registry: every rule routeguard knows, in catalogue order. */
import { ist0109 } from './ist0109-conflicting-mesh-hosts.js'
import { ist0130, ist0131 } from './ist0130-unreachable-rules.js'
import { ist0145 } from './ist0145-conflicting-gateways.js'
import { rg0101 } from './rg0101-gateway-route-shadowed.js'
import { rg0102 } from './rg0102-mesh-route-ownership.js'
import { rg0103 } from './rg0103-route-match-conflict.js'
import { rg0104 } from './rg0104-mixed-route-kinds.js'
import { rg0105 } from './rg0105-destinationrule-merge.js'
import { rg0405, rg0501 } from './hygiene.js'
import { rg0502 } from './rg0502-invalid-regex.js'
import { rg0301 } from './rg0301-unsupported-feature.js'
import { rg0302 } from './rg0302-no-gateway-api-equivalent.js'
import { rg0402 } from './rg0402-subset-service-name-taken.js'
import { ist0101Gateway, ist0132, ist0165 } from './istio-gateway-refs.js'
import { ist0101Subset } from './istio-destination-subsets.js'
import { ist0101Host, ist0112, ist0140 } from './istio-destination-hosts.js'
import { ist0173, ist0174 } from './istio-destinationrule-pods.js'
import { ist0128, ist0129 } from './istio-destinationrule-ca.js'
import { ist0134, ist0177 } from './istio-serviceentry.js'
import { ist0101Credential, ist0138 } from './istio-gateway-tls.js'
import { ist0149 } from './ist0149-jwt-claim-route.js'
import { ist0002 } from './ist0002-deprecation.js'
import { ist0171 } from './ist0171-conditions.js'
import { ist0176 } from './ist0176-crd-version.js'
import { ist0116, ist0137 } from './istio-deployment-services.js'
import { ist0101Selector, ist0118, ist0150, ist0162 } from './istio-services.js'
import { routeStatusRules } from './route-status.js'
import { rg0209, rg0210, rg0211 } from './gateway-listeners.js'
import type { Rule } from './types.js'

export const RULES: readonly Rule[] = [
  ist0002,
  ist0101Gateway,
  ist0101Host,
  ist0101Subset,
  ist0101Selector,
  ist0101Credential,
  ist0109,
  ist0112,
  ist0116,
  ist0118,
  ist0128,
  ist0129,
  ist0130,
  ist0131,
  ist0132,
  ist0134,
  ist0137,
  ist0138,
  ist0140,
  ist0145,
  ist0149,
  ist0150,
  ist0162,
  ist0165,
  ist0171,
  ist0173,
  ist0174,
  ist0176,
  ist0177,
  rg0101,
  rg0102,
  rg0103,
  rg0104,
  rg0105,
  ...routeStatusRules,
  rg0209,
  rg0210,
  rg0211,
  rg0301,
  rg0302,
  rg0402,
  rg0405,
  rg0501,
  rg0502,
]

/** Kinds any rule is evaluated for: the kinds the webhook has something to say about. */
export const SUBJECT_KINDS: ReadonlySet<string> = new Set(RULES.flatMap((r) => r.subjects))
