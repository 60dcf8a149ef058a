/**
 * The message catalogue: every code routeguard reports, its name, default level and template.
 * Codes IST* mirror Istio's `pkg/config/analysis/msg/messages.yaml` (same code, name, level);
 * RG* are routeguard's own, numbered by family (RG01xx conflicts, RG02xx Gateway API status,
 * RG03xx migration, RG04xx subsets, RG05xx hygiene; `rules/<family>/` holds each family's rules).
 * `docs/rules.md` is generated from this table (`npm run docs`). Pure data: imports nothing.
 */
export type Severity = 'error' | 'warning' | 'info'

export interface MessageSpec {
  name: string
  level: Severity
  /** one line: what the rule finds */
  description: string
  /** where the semantics come from */
  source: string
  /** `{placeholders}` are filled from the finding's arguments */
  template: string
  /**
   * One sentence on how to resolve it, appended to every message (placeholders as in
   * `template`). Every code whose default level is `error` (denied at admission) has one.
   */
  fix?: string
}

export const CATALOGUE = {
  IST0002: {
    name: 'Deprecated',
    level: 'warning',
    description: 'A deprecated or ignored Istio field or removed resource type is used.',
    source: 'Istio analyzer deprecation.DeprecationAnalyzer',
    template: '{subject}: {what}.',
  },
  IST0101: {
    name: 'ReferencedResourceNotFound',
    level: 'error',
    description: 'Something the object references does not exist (gateway, host+subset in a DestinationRule, gateway workload selector, gateway credentialName Secret).',
    source: 'Istio analyzers virtualservice.GatewayAnalyzer, virtualservice.DestinationRuleAnalyzer, gateway.IngressGatewayPortAnalyzer, gateway.SecretAnalyzer',
    template: '{subject}: {reftype} {name} not found.',
    fix: 'Create the missing {reftype}, or correct the reference to it.',
  },
  IST0109: {
    name: 'ConflictingMeshGatewayVirtualServiceHosts',
    level: 'error',
    description: 'Two mesh-bound VirtualServices claim the same host in overlapping exportTo scopes; sidecars keep only one.',
    source: 'Istio analyzer virtualservice.ConflictingMeshGatewayHostsAnalyzer',
    template: '{subject} and {others} are mesh VirtualServices that define the same host {host} (exportTo scope {scope}); sidecars use only one of them.{example}',
    fix: 'Merge them into one VirtualService, or narrow exportTo so that no namespace sees both.',
  },
  IST0112: {
    name: 'VirtualServiceDestinationPortSelectorRequired',
    level: 'error',
    description: 'A route destination omits the port while the Service or ServiceEntry it names has more than one.',
    source: 'Istio analyzer virtualservice.DestinationHostAnalyzer',
    template: '{subject} {path}: {host} exposes several ports ({ports}); the destination must name one.',
    fix: 'Set the destination\'s port.number to one of those ports.',
  },
  IST0116: {
    name: 'DeploymentAssociatedToMultipleServices',
    level: 'warning',
    description: 'Services selecting one mesh Deployment use the same port number with different protocols.',
    source: 'Istio analyzer deployment.MultiServiceAnalyzer',
    template: '{subject} is selected by Services using port {port} with different protocols: {services}.',
  },
  IST0118: {
    name: 'PortNameIsNotUnderNamingConvention',
    level: 'info',
    description: 'A Service port name (or appProtocol) does not say its protocol, so Istio falls back to protocol sniffing.',
    source: 'Istio analyzer service.PortNameAnalyzer',
    template: '{subject} port {port} name {name} does not follow <protocol>[-<suffix>]; Istio will sniff the protocol.',
  },
  IST0128: {
    name: 'NoServerCertificateVerificationDestinationLevel',
    level: 'warning',
    description: 'A DestinationRule originates TLS (SIMPLE or MUTUAL) without caCertificates: the server certificate is not verified.',
    source: 'Istio analyzer destinationrule.CaCertificateAnalyzer',
    template: '{subject}: TLS mode {mode} to host {host} without caCertificates; the server certificate is not verified.',
  },
  IST0129: {
    name: 'NoServerCertificateVerificationPortLevel',
    level: 'warning',
    description: 'A DestinationRule portLevelSettings entry originates TLS (SIMPLE or MUTUAL) without caCertificates: the server certificate is not verified.',
    source: 'Istio analyzer destinationrule.CaCertificateAnalyzer',
    template: '{subject}: TLS mode {mode} to host {host} port {port} without caCertificates; the server certificate is not verified.',
  },
  IST0130: {
    name: 'VirtualServiceUnreachableRule',
    level: 'warning',
    description: 'A VirtualService rule can never match: an earlier rule has no match, or all its matches are used by earlier rules.',
    source: 'Istio validation (pkg/config/validation) analyzeUnreachable*Rules, via schema.ValidationAnalyzer.VirtualService',
    template: '{subject} rule {rule} is not used: {reason}.',
  },
  IST0131: {
    name: 'VirtualServiceIneffectiveMatch',
    level: 'info',
    description: 'A VirtualService match duplicates, or is covered by, a match of an earlier rule.',
    source: 'Istio validation (pkg/config/validation) analyzeUnreachable*Rules and coveredValidation',
    template: '{subject} rule {rule} match {match} is not used (a duplicate of, or covered by, {earlier}).',
  },
  IST0132: {
    name: 'VirtualServiceHostNotFoundInGateway',
    level: 'warning',
    description: 'None of the VirtualService hosts is served by a gateway it is bound to.',
    source: 'Istio analyzer virtualservice.GatewayAnalyzer',
    template: '{subject}: none of the hosts {hosts} is defined in gateway {gateway}.',
  },
  IST0134: {
    name: 'ServiceEntryAddressesRequired',
    level: 'warning',
    description: 'A ServiceEntry without addresses has a TCP (or unset) protocol port; without DNS auto-allocation all such traffic on the port is matched by it.',
    source: 'Istio analyzer serviceentry.Analyzer',
    template: '{subject} port {port} is TCP or has no protocol and the ServiceEntry has no addresses; set addresses or enable DNS auto-allocation.',
  },
  IST0137: {
    name: 'DeploymentConflictingPorts',
    level: 'warning',
    description: 'Services selecting one mesh Deployment map different ports onto the same targetPort.',
    source: 'Istio analyzer deployment.MultiServiceAnalyzer',
    template: '{subject}: Services {services} map ports {ports} onto the same targetPort {targetPort}.',
  },
  IST0138: {
    name: 'GatewayDuplicateCertificate',
    level: 'warning',
    description: 'Two Istio Gateways on the same workloads serve the same TLS certificate; HTTP/2 connection reuse can then send a request to the wrong server (404).',
    source: 'Istio analyzer gateway.CertificateAnalyzer',
    template: '{subject} and {others} select the same workloads and serve the same certificate; HTTP/2 connection reuse can send requests to the wrong server.',
  },
  IST0140: {
    name: 'IngressRouteRulesNotAffected',
    level: 'warning',
    description: 'A gateway-bound VirtualService routes to a host without subset while a mesh VirtualService for that host routes by subset; the subset routing does not apply to ingress traffic.',
    source: 'Istio analyzer virtualservice.DestinationHostAnalyzer',
    template: '{subject} {path}: the subset routing of {others} for host {host} does not apply to traffic from this gateway.',
  },
  IST0145: {
    name: 'ConflictingGateways',
    level: 'error',
    description: 'Istio Gateways on the same workloads declare the same port and host.',
    source: 'Istio analyzer gateway.ConflictingGatewayAnalyzer',
    template: '{subject} conflicts with {others} on workload selector {selector}, port {port}, hosts {hosts}: the same port and host are declared twice.',
    fix: 'Serve each port and host from one Gateway: merge the servers, or change the port or hosts of one.',
  },
  IST0149: {
    name: 'JwtClaimBasedRoutingWithoutRequestAuthN',
    level: 'error',
    description: 'A VirtualService routes on a JWT claim at a gateway whose workload no RequestAuthentication selects: the claim is never there.',
    source: 'Istio analyzer virtualservice.JWTClaimRouteAnalyzer',
    template: '{subject} routes on {claim} at gateway {gateway}, but no RequestAuthentication selects its workload {workload}.',
    fix: 'Add a RequestAuthentication that selects the gateway workload, or route on something other than a JWT claim.',
  },
  IST0150: {
    name: 'ExternalNameServiceTypeInvalidPortName',
    level: 'warning',
    description: 'An ExternalName Service port is named tcp or has no known protocol prefix, so Istio cannot route it as intended.',
    source: 'Istio analyzer service.PortNameAnalyzer',
    template: '{subject} is an ExternalName Service and port {port} name {name} must name a protocol other than tcp (e.g. http, https, tls).',
  },
  IST0162: {
    name: 'GatewayPortNotDefinedOnService',
    level: 'warning',
    description: 'An Istio Gateway server port is not a port of any Service selecting the gateway pods.',
    source: 'Istio analyzer gateway.IngressGatewayPortAnalyzer',
    template: '{subject} server port {port} is not exposed by any Service selecting the gateway workload {selector}.',
  },
  IST0165: {
    name: 'ReferencedInternalGateway',
    level: 'warning',
    description: 'A VirtualService binds to the internal gateway Istio generates for a Gateway API Gateway.',
    source: 'Istio analyzer virtualservice.GatewayAnalyzer',
    template: '{subject} references the internal gateway {gateway}; bind to the Gateway API Gateway with an HTTPRoute instead.',
  },
  IST0171: {
    name: 'NegativeConditionStatus',
    level: 'warning',
    description: 'A controller set a status condition to the negative (Gateway API Accepted/Programmed/ResolvedRefs False, Istio WaypointBound False, AuthorizationPolicy not accepted).',
    source: 'Istio analyzer conditions.ConditionAnalyzer',
    template: '{subject} has status condition {type}={status} (reason {reason}).',
  },
  IST0173: {
    name: 'DestinationRuleSubsetNotSelectPods',
    level: 'error',
    description: 'A DestinationRule subset selects no Pod (labels checked with the node topology labels added).',
    source: 'Istio analyzer destinationrule.SubsetSelectPodAnalyzer',
    template: '{subject} subset {subset} selects no Pod of {host} (labels {labels}).',
    fix: 'Correct the subset labels, or label the Pods the subset is meant to select.',
  },
  IST0174: {
    name: 'UnknownDestinationRuleHost',
    level: 'warning',
    description: 'A DestinationRule host resolves to no visible Service or ServiceEntry.',
    source: 'Istio analyzer destinationrule.SubsetSelectPodAnalyzer',
    template: '{subject}: host {host} is neither a Service nor a ServiceEntry host visible here.',
  },
  IST0176: {
    name: 'GatewayAPICRDVersionBelowMinimum',
    level: 'warning',
    description: 'A Gateway API CRD bundle is older than the release Istio needs for that kind.',
    source: 'Istio analyzer k8sgateway.CRDVersionAnalyzer (pkg/config/schema/gatewayapi/minimumversions.go)',
    template: '{subject}: bundle version {version} of {crd} is below {minimum}, the minimum Istio supports for it.',
  },
  IST0177: {
    name: 'ConflictingServiceEntryProtocol',
    level: 'warning',
    description: 'ServiceEntries visible in overlapping exportTo scopes declare the same host and port with different protocols.',
    source: 'Istio analyzer serviceentry.ConflictingServiceEntryProtocolAnalyzer',
    template: '{subject} and {others} declare host {host} port {port} with different protocols ({protocols}).',
  },
  RG0101: {
    name: 'GatewayRouteShadowed',
    level: 'error',
    description: 'Two VirtualServices bound to the same Istio Gateway and host have an identical match; Istio merges them in an order nobody chose.',
    source: 'Istio gateway route merging (pilot/pkg/networking/core/gateway.go); routeguard policy',
    template: '{subject} match {match} on host {host} of gateway {gateway} is identical to a match of older {others}; Istio merges both into one virtual host and one of them never gets traffic{example}.',
    fix: 'Move the match into the older VirtualService, or change one match so the two differ.',
  },
  RG0102: {
    name: 'MeshRouteOwnershipConflict',
    level: 'error',
    description: 'A mesh VirtualService and a GAMMA HTTPRoute/GRPCRoute claim the same Service host for overlapping namespaces.',
    source: 'Istio sidecar VirtualService selection (model.SelectVirtualServices); GEP-1294',
    template: '{subject} and {others} both route the Service host {host} for the mesh ({scope}); Istio keeps one and silently drops the other.',
    fix: 'Pick one owner for the host: route it with the VirtualService or with the route, and delete the other.',
  },
  RG0103: {
    name: 'RouteMatchConflict',
    level: 'error',
    description: 'Two routes on the same parent claim a hostname at equal specificity with an identical match; the older one takes all the traffic.',
    source: 'Gateway API HTTPRoute/GRPCRoute rule precedence (HTTPRouteRule, GRPCRouteRule docs)',
    template: '{subject} match {match} on host {host} of {parent} is identical to a match of older {others}; the spec gives that traffic to the older route{example}.',
    fix: 'Move the match into the older route, or make one match more specific (a longer path, a header, a method) so the two differ.',
  },
  RG0104: {
    name: 'MixedRouteKindsOnHostname',
    level: 'error',
    description: 'An HTTPRoute and a GRPCRoute attach to the same listener with intersecting hostnames; the spec requires rejecting the newer.',
    source: 'Gateway API GRPCRoute spec (HTTPRoute and GRPCRoute on the same hostname)',
    template: '{subject} and older {others} share host {host} on {parent}; an implementation must reject the newer of an HTTPRoute and a GRPCRoute on one hostname.',
    fix: 'Serve gRPC and HTTP on different hostnames or listeners, or write both as one kind of route.',
  },
  RG0105: {
    name: 'DestinationRuleMergeDropped',
    level: 'error',
    description: 'Istio merges the DestinationRules of one namespace for one host, oldest first: a newer rule\'s subset whose name is taken, or its trafficPolicy when an older rule has one, is dropped silently.',
    source: 'Istio pilot mergeDestinationRule (pilot/pkg/model/destination_rule.go), PushContext.SetDestinationRules',
    template: '{subject} {part} for host {host} is dropped: Istio merges this DestinationRule into older {winner}, whose {part} wins.',
    fix: 'Change it there, or remove it here.',
  },
  RG0106: {
    name: 'TrafficTakeover',
    level: 'error',
    description: 'A change in one namespace takes requests that a route of another namespace served, on a hostname the changing namespace does not own: the namespaces of the oldest route serving it (ownership mode oldest) or those the config lists for it (explicit). Judged at admission and by routeguard diff on the requests the change moves; off unless ownership.mode is set.',
    source: 'routeguard change impact (impact/impact.ts: request classes traced before and after with the routing models of trace: Gateway API HTTPRoute precedence, Istio VirtualService merge and first match); hostname ownership after the OpenShift router\'s namespace ownership of hostnames',
    template: '{subject} takes {request} ({via}) from {from}{more}: hostname {hostname} belongs to namespace {owners}, not {namespace} (ownership {mode}).',
    fix: 'Ask {owners} to route it, list {namespace} for the hostname under ownership.hosts in the routeguard config, or add a policy exception for RG0106.',
  },
  RG0201: {
    name: 'ParentNotFound',
    level: 'warning',
    description: 'A route parentRef names a Gateway or Service that does not exist; no controller will accept the route there.',
    source: 'Gateway API v1.6.1 route status (RouteConditionReason), GEP-709 ReferenceGrant, listener attachment rules',
    template: '{subject} parentRef {parent}: the parent does not exist; the route is not attached there.',
  },
  RG0202: {
    name: 'NotAllowedByListeners',
    level: 'warning',
    description: 'No listener selected by the parentRef admits the route (allowedRoutes namespaces or kinds, listener protocol): Accepted=False.',
    source: 'Gateway API v1.6.1 route status (RouteConditionReason), GEP-709 ReferenceGrant, listener attachment rules',
    template: '{subject} parentRef {parent}: no listener allows this route ({detail}); Accepted=False/NotAllowedByListeners.',
  },
  RG0203: {
    name: 'NoMatchingListenerHostname',
    level: 'warning',
    description: 'The route hostnames intersect no hostname of the listeners it attaches to: Accepted=False.',
    source: 'Gateway API v1.6.1 route status (RouteConditionReason), GEP-709 ReferenceGrant, listener attachment rules',
    template: '{subject} parentRef {parent}: hostnames {hostnames} match no listener hostname; Accepted=False/NoMatchingListenerHostname.',
  },
  RG0204: {
    name: 'NoMatchingParent',
    level: 'warning',
    description: 'The parentRef sectionName/port select no listener (or Service port): Accepted=False.',
    source: 'Gateway API v1.6.1 route status (RouteConditionReason), GEP-709 ReferenceGrant, listener attachment rules',
    template: '{subject} parentRef {parent}: {detail}; Accepted=False/NoMatchingParent.',
  },
  RG0205: {
    name: 'BackendNotFound',
    level: 'warning',
    description: 'A backendRef names a Service that does not exist: ResolvedRefs=False, and its share of requests gets HTTP 500.',
    source: 'Gateway API v1.6.1 route status (RouteConditionReason), GEP-709 ReferenceGrant, listener attachment rules',
    template: '{subject} {path}: backend {backend} not found; ResolvedRefs=False/BackendNotFound (HTTP 500 for its share).',
  },
  RG0206: {
    name: 'RefNotPermitted',
    level: 'warning',
    description: 'A cross-namespace backendRef of a Gateway route has no ReferenceGrant allowing it: ResolvedRefs=False.',
    source: 'Gateway API v1.6.1 route status (RouteConditionReason), GEP-709 ReferenceGrant, listener attachment rules',
    template: '{subject} {path}: no ReferenceGrant in {namespace} allows this {kind} to reference {backend}; ResolvedRefs=False/RefNotPermitted.',
  },
  RG0207: {
    name: 'InvalidKind',
    level: 'warning',
    description: 'A backendRef names a group/kind the implementation does not support: ResolvedRefs=False.',
    source: 'Gateway API v1.6.1 route status (RouteConditionReason), GEP-709 ReferenceGrant, listener attachment rules',
    template: '{subject} {path}: backend kind {backendKind} is not supported; ResolvedRefs=False/InvalidKind.',
  },
  RG0208: {
    name: 'UnsupportedValue',
    level: 'warning',
    description: 'A route uses an enum value the API does not define (path, header or query type, method, filter type): Accepted=False.',
    source: 'Gateway API v1.6.1 route status (RouteConditionReason), GEP-709 ReferenceGrant, listener attachment rules',
    template: '{subject} {path}: unsupported value {value}; Accepted=False/UnsupportedValue.',
  },
  RG0209: {
    name: 'ListenerConflicted',
    level: 'error',
    description: 'Gateway listeners that are not distinct (same port and hostname, or TCP with HTTP/HTTPS/TLS on one port): all of them get Conflicted=True and none is accepted.',
    source: 'Gateway API v1.6.1 Gateway.spec.listeners, "Distinct Listeners" and "Handling indistinct Listeners" (ListenerConditionConflicted)',
    template: '{subject} listener {listener} (port {port}) is not distinct from {others}: Conflicted=True/{reason}; the spec accepts none of them.',
    fix: 'Give the listeners different ports or hostnames, or merge them into one.',
  },
  RG0210: {
    name: 'GatewayAddressConflict',
    level: 'error',
    description: 'Two Gateways request the same IP address: only one can be given it.',
    source: 'Gateway API v1.6.1 Gateway.spec.addresses (an unavailable requested address is reported in the Gateway status: Programmed=False/AddressNotUsable)',
    template: '{subject} requests address {address}, which {others} requests too; at most one of them can be Programmed with it.',
    fix: 'Request a different address for one of the Gateways, or let the implementation assign one.',
  },
  RG0211: {
    name: 'ListenerNotValid',
    level: 'warning',
    description: 'A Gateway listener that a controller will not accept or whose references do not resolve (unsupported protocol, invalid route kinds, certificate reference of a wrong kind or not permitted), or a backend client certificate reference that does not resolve.',
    source: 'Gateway API v1.6.1 listener conditions (ListenerConditionAccepted, ListenerConditionResolvedRefs; GEP-709 for certificateRefs)',
    template: '{subject} {where}: {type}=False/{reason} ({detail}).',
  },
  RG0212: {
    name: 'OverlappingTLSConfig',
    level: 'warning',
    description: 'HTTPS listeners on one port whose hostnames overlap (foo.example.com and *.example.com): both get OverlappingTLSConfig=True, since HTTP/2 connection coalescing can send one listener\'s requests over the other\'s connection.',
    source: 'Gateway API v1.6.1 Gateway listener conditions (ListenerConditionOverlappingTLSConfig, ListenerReasonOverlappingHostnames)',
    template: '{subject} listener {listener} (port {port}) hostname {hostname} overlaps {others}: OverlappingTLSConfig=True/OverlappingHostnames; HTTP/2 connection coalescing can mix their requests.',
  },
  RG0213: {
    name: 'BackendTLSPolicyNotValid',
    level: 'warning',
    description: 'A BackendTLSPolicy a controller will not accept or whose CA certificate references do not resolve (a target that does not exist, an older policy for the same target and sectionName, a caCertificateRef to another kind or to a ConfigMap that is missing or has no ca.crt): connections that use an invalid reference fail, and the backend\'s share of requests gets a 5xx.',
    source: 'Gateway API v1.6.1 BackendTLSPolicy (apis/v1/backendtlspolicy_types.go: targetRefs conflict resolution, validation.caCertificateRefs; PolicyConditionAccepted, BackendTLSPolicyReasonNoValidCACertificate, InvalidCACertificateRef, InvalidKind)',
    template: '{subject} {where}: {type}=False/{reason} ({detail}).',
  },
  RG0301: {
    name: 'UnsupportedFeature',
    level: 'error',
    description: 'A route or Gateway uses a Gateway API feature the configured implementation does not claim in its conformance report (or one Istio cannot translate).',
    source: 'Gateway API conformance reports (conformance/reports/), Istio pilot/pkg/config/kube/gateway/conversion.go',
    template: '{subject} {path}: {feature} is not supported by {implementation}{detail}.',
    fix: 'Use a feature {implementation} supports, or move the route to a Gateway whose implementation claims it.',
  },
  RG0302: {
    name: 'NoGatewayApiEquivalent',
    level: 'info',
    description: 'A VirtualService uses a feature with no standard Gateway API equivalent (or one that converts only approximately); one finding per feature.',
    source: 'Gateway API v1.6.1 HTTPRoute vs Istio VirtualService (research table §5.4)',
    template: '{subject} {path}: {feature} has no Gateway API equivalent: {detail}',
  },
  RG0402: {
    name: 'SubsetServiceNameTaken',
    level: 'warning',
    description: 'A DestinationRule asks for per-subset Services, or a route names one (`<svc>-<subset>` with that subset in DestinationRule `<svc>`), but a Service with that name exists and is not managed by routeguard: it is left alone, and the route\'s traffic goes to whatever it selects.',
    source: 'routeguard subset Services (GEP-1294 per-subset Service pattern)',
    template: '{subject} subset {subset}: Service {service} exists and is not managed by routeguard; it is left as it is.',
  },
  RG0403: {
    name: 'SubsetServiceGenerated',
    level: 'info',
    description: '/mutate generated (or, on dryRun and standalone, would generate) a per-subset Service a route names; reported as a warning on that review only.',
    source: 'routeguard subset Services (GEP-1294 per-subset Service pattern)',
    template: '{subject}: {verb} Service {service}{detail}: selector of Service {base} + subset {subset} of DestinationRule {destinationRule}',
  },
  RG0404: {
    name: 'SubsetServiceNotWritten',
    level: 'warning',
    description: '/mutate did not write a per-subset Service: the write failed (RBAC, conflict, API server timeout; the object is admitted and the audit leader retries), or the subset labels contradict the parent Service selector (or it has none), so Istio selects no endpoint and none is generated.',
    source: 'routeguard subset Services (GEP-1294 per-subset Service pattern)',
    template: '{subject}: could not generate Service {service}: {error}',
  },
  RG0405: {
    name: 'SubsetWithoutLabels',
    level: 'info',
    description: 'A DestinationRule subset has no labels: it selects every endpoint of the host, so routing to it is routing to the host.',
    source: 'Kiali KIA0209 (destinationrules.nodest.subsetnolabels); Istio subset selection (labels merged with the ServiceEntry workloadSelector)',
    template: '{subject} subset {subset} of {host} has no labels: it selects every endpoint of the host.',
  },
  RG0406: {
    name: 'SubsetSelectsNoEndpoint',
    level: 'warning',
    description: "A DestinationRule subset selects no endpoint of its Kubernetes Service: the Service's own Pods (its namespace, its selector) filtered by the subset labels are none, though Pods elsewhere carry the labels (so IST0173, which counts every namespace as istioctl does, is silent); the subset's cluster is empty and requests routed to it get 503.",
    source: "Istio subset clusters (pilot: a subset's endpoints are the host's endpoints filtered by the subset labels); Kiali KIA0203 (destinationrules.nodest.matchingworkload)",
    template: "{subject} subset {subset} of {host} selects no endpoint of Service {service}: {why}; requests routed to it get 503.",
  },
  RG0501: {
    name: 'RepeatedRouteDestination',
    level: 'info',
    description: 'One route lists the same destination twice (VirtualService route, HTTPRoute/GRPCRoute rule backendRefs); the proxy adds their weights up.',
    source: 'Kiali KIA1105 (virtualservices.route.repeatedsubset); Envoy weighted clusters',
    template: '{subject} {path}: destination {destination} is listed twice in one route; its weights add up.',
  },
  RG0502: {
    name: 'InvalidRegex',
    level: 'error',
    description: 'A regular expression in a route match or rewrite does not compile as RE2 (lookaround, backreferences, repeat counts over 1000, over 1024 characters): Istio refuses the VirtualService and Envoy the route; routeguard never runs it.',
    source: 'Istio validation ValidateHTTPRoute (validateStringMatchRegexp: RE2, at most 1024 characters); Envoy safe_regex (RE2); Gateway API RegularExpression matches',
    template: '{subject} {path}: regular expression {pattern} is not valid RE2: {error}.',
    fix: 'Rewrite it in RE2 syntax (no lookaround or backreferences, repeats of at most 1000, at most 1024 characters).',
  },
  RG0503: {
    name: 'NamespaceNotFound',
    level: 'info',
    description: 'A VirtualService exportTo, or a ReferenceGrant from, names a namespace that does not exist (judged only when the input or the cluster holds Namespaces): it exports to, or grants, nobody.',
    source: 'Istio exportTo (networking.istio.io VirtualService.exportTo); Gateway API ReferenceGrant (GEP-709) from.namespace; Kiali KIA1106-style hygiene',
    template: '{subject} {path}: namespace {namespace} does not exist; {effect}.',
  },
} as const satisfies Record<string, MessageSpec>

export type Code = keyof typeof CATALOGUE

export function isCode(c: string): c is Code {
  return Object.prototype.hasOwnProperty.call(CATALOGUE, c)
}
