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
  /**
   * Listed and watched as `PartialObjectMetadata` (the `Accept` header
   * `application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1`, `as=PartialObjectMetadata`
   * for watches): the API server sends metadata only, and the view keeps name, namespace and
   * labels. For kinds whose bodies routeguard must not hold (Pods: volume, env; Secrets: data).
   */
  metadataOnly?: boolean
  /**
   * Not needed for admission: the view is ready without it, and covers the kind only once it has
   * listed (a cluster whose RBAC does not grant it keeps the rules that read it quiet).
   */
  optional?: boolean
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
  // which BackendTLSPolicy a backend gets (trace; RG0213 in the audit); optional: the CRD is Extended
  { group: 'gateway.networking.k8s.io', versions: ['v1', 'v1alpha3'], plural: 'backendtlspolicies', kind: 'BackendTLSPolicy', namespaced: true, optional: true },
  { group: '', versions: ['v1'], plural: 'services', kind: 'Service', namespaced: true },
  { group: '', versions: ['v1'], plural: 'namespaces', kind: 'Namespace', namespaced: false },
  // workloads for IST0173, IST0162, IST0101 (selector) and IST0145's sub-selector case
  { group: '', versions: ['v1'], plural: 'pods', kind: 'Pod', namespaced: true, metadataOnly: true, optional: true },
  // the Pods behind Services without a selector (trace: their endpoints' targetRefs), stripped to those
  { group: 'discovery.k8s.io', versions: ['v1'], plural: 'endpointslices', kind: 'EndpointSlice', namespaced: true, optional: true },
  // Istio Gateway credentialName Secrets (IST0101 credentialName): names only, never data
  { group: '', versions: ['v1'], plural: 'secrets', kind: 'Secret', namespaced: true, metadataOnly: true, optional: true },
  // BackendTLSPolicy caCertificateRefs (RG0213, trace): names only, never data
  { group: '', versions: ['v1'], plural: 'configmaps', kind: 'ConfigMap', namespaced: true, metadataOnly: true, optional: true },
]

/** `Accept` for a metadata-only list; JSON as a fallback for a server that cannot convert (stripped all the same). */
export const ACCEPT_METADATA_LIST = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json'
/** `Accept` for a metadata-only watch or get. */
export const ACCEPT_METADATA = 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json'

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
