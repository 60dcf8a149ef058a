/**
 * Istio analyzer parity (IST codes): one file per Istio analyzer (`pkg/config/analysis/analyzers`),
 * named after it; same code, name and level as Istio's `msg/messages.yaml`.
 */
import type { Rule } from '../types.js'
import { ist0002 } from './deprecation.js'
import { ist0101Gateway, ist0132, ist0165 } from './gateway-refs.js'
import { ist0101Host, ist0112, ist0140 } from './destination-hosts.js'
import { ist0101Subset } from './destination-subsets.js'
import { ist0101Selector, ist0118, ist0150, ist0162 } from './services.js'
import { ist0101Credential, ist0138 } from './gateway-tls.js'
import { ist0109 } from './conflicting-mesh-gateway-hosts.js'
import { ist0116, ist0137 } from './deployment-services.js'
import { ist0128, ist0129 } from './destinationrule-ca.js'
import { ist0130, ist0131 } from './unreachable-rules.js'
import { ist0134, ist0177 } from './serviceentry.js'
import { ist0145 } from './conflicting-gateways.js'
import { ist0149 } from './jwt-claim-route.js'
import { ist0171 } from './conditions.js'
import { ist0173, ist0174 } from './destinationrule-pods.js'
import { ist0176 } from './crd-version.js'

/** In code order; the IST0101 rules in the order their findings are listed. */
export const ISTIO_RULES: readonly Rule[] = [
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
]
