import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { ExistingGateway } from './gateway-server-options';
import { ISTIO_SYSTEM_NAMESPACE } from '../envoy/names';
import { ExternalTrafficPolicy } from '../model/model';
import { checkDnsLabel, checkLabels } from '../util/validate';

/*
 * Attach mode (internal): a gateway construct given an existing installation (`existing`) renders only the Istio
 * Gateway, the routes and, with externalTrafficPolicy Local, a partial Service for server-side apply.
 */

/** The Helm chart's ingress gateway: the installation attach mode assumes when `existing` leaves a field out. */
const CHART_INGRESS_GATEWAY = { namespace: ISTIO_SYSTEM_NAMESPACE, selector: { istio: 'ingressgateway' }, serviceName: 'istio-ingressgateway' };

/** The installation an `ExistingGateway` names, defaulted to the Helm chart's and checked. */
export interface AttachedInstallation {
  readonly namespace: string;
  readonly selector: { [key: string]: string };
  readonly serviceName: string;
}

/** The installation's namespace, pod labels and Service name, each checked (the namespace first: the gateway's defaults to it). */
export function resolveExisting(existing: ExistingGateway): AttachedInstallation {
  return {
    namespace: checkDnsLabel('existing.namespace', existing.namespace ?? CHART_INGRESS_GATEWAY.namespace),
    selector: checkLabels('existing.selector', existing.selector ?? CHART_INGRESS_GATEWAY.selector),
    serviceName: checkDnsLabel('existing.serviceName', existing.serviceName ?? CHART_INGRESS_GATEWAY.serviceName),
  };
}

/** A partial Service for `kubectl apply --server-side`: it owns only `spec.externalTrafficPolicy`. */
export function renderServicePatch(scope: Construct, installation: AttachedInstallation, externalTrafficPolicy: ExternalTrafficPolicy): ApiObject {
  return new ApiObject(scope, 'ServicePatch', {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: installation.serviceName, namespace: installation.namespace },
    spec: { externalTrafficPolicy },
  });
}
