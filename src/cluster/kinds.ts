/**
 * The kinds the live view watches, with the versions we accept in order of preference. Versions
 * are discovered at start: the first preferred version the API server serves is used, so
 * clusters on older Istio or Gateway API bundles work unchanged.
 */
export interface WatchedKind {
  group: string
  /** preferred first */
  versions: string[]
  plural: string
  kind: string
  namespaced: boolean
}

export const WATCHED_KINDS: readonly WatchedKind[] = [
  { group: 'networking.istio.io', versions: ['v1', 'v1beta1', 'v1alpha3'], plural: 'virtualservices', kind: 'VirtualService', namespaced: true },
  { group: 'networking.istio.io', versions: ['v1', 'v1beta1', 'v1alpha3'], plural: 'destinationrules', kind: 'DestinationRule', namespaced: true },
  { group: 'networking.istio.io', versions: ['v1', 'v1beta1', 'v1alpha3'], plural: 'gateways', kind: 'Gateway', namespaced: true },
  { group: 'networking.istio.io', versions: ['v1', 'v1beta1', 'v1alpha3'], plural: 'serviceentries', kind: 'ServiceEntry', namespaced: true },
  { group: 'gateway.networking.k8s.io', versions: ['v1', 'v1beta1'], plural: 'httproutes', kind: 'HTTPRoute', namespaced: true },
  { group: 'gateway.networking.k8s.io', versions: ['v1', 'v1alpha2'], plural: 'grpcroutes', kind: 'GRPCRoute', namespaced: true },
  { group: 'gateway.networking.k8s.io', versions: ['v1', 'v1beta1'], plural: 'gateways', kind: 'Gateway', namespaced: true },
  { group: 'gateway.networking.k8s.io', versions: ['v1', 'v1beta1'], plural: 'referencegrants', kind: 'ReferenceGrant', namespaced: true },
  { group: '', versions: ['v1'], plural: 'services', kind: 'Service', namespaced: true },
  { group: '', versions: ['v1'], plural: 'namespaces', kind: 'Namespace', namespaced: false },
]

/** `<group>/<Kind>`, the view's kind key. */
export function kindKey(k: WatchedKind): string {
  return `${k.group}/${k.kind}`
}

/** `apiVersion` for a group and version (`v1` for the core group). */
export function apiVersion(group: string, version: string): string {
  return group ? `${group}/${version}` : version
}

/** Collection path for all namespaces: `/api/v1/services`, `/apis/g/v/plural`. */
export function collectionPath(group: string, version: string, plural: string): string {
  return group ? `/apis/${group}/${version}/${plural}` : `/api/${version}/${plural}`
}
