/*
 * A cluster dump for the explain benchmark, as `kubectl get -A -o yaml` prints it: one `kind: List` whose items sit
 * at column 0. At 500 MB it holds 500 Deployments of 40 pods each (with their ReplicaSets), 5,000 Services, 2,000
 * Istio objects (a VirtualService, DestinationRule, Sidecar and DENY AuthorizationPolicy per Deployment), the
 * installation (IstioOperator, the `istio` mesh ConfigMap, an ingress gateway with externalTrafficPolicy Local and
 * one trusted hop, its Istio Gateway) and, for about 70% of the bytes, kinds explain does not read (Events, Secrets,
 * ConfigMaps, old ReplicaSets, EndpointSlices), and a few groups of bare pods. Smaller dumps scale the counts down with the size.
 */

import { FULL, deployment, installation, istioObjects, pod, replicaSet, service } from './explain-dump-objects';
import { noise } from './explain-dump-noise';

/** What a dump holds, for the benchmark's checks. */
export interface DumpCounts {
  readonly deployments: number;
  /** Groups of bare pods (no controller) with identical labels: each is one workload. */
  readonly barePodGroups: number;
  readonly pods: number;
  readonly services: number;
  readonly istioObjects: number;
  readonly noiseObjects: number;
  readonly bytes: number;
}

/**
 * Writes a dump of about `bytes` bytes through `write` (called with pieces of text, in order), the objects scaled to
 * the size; with `noise` false, the same objects without the kinds explain does not read (and its noise bytes).
 */
export function writeClusterDump(bytes: number, write: (text: string) => void, options: { noise?: boolean } = {}): DumpCounts {
  const scale = Math.max(1, Math.round(FULL.deployments * bytes / FULL.bytes));
  const deployments = scale;
  let written = 0;
  const out = (text: string) => {
    written += Buffer.byteLength(text);
    write(text);
  };
  out('apiVersion: v1\nitems:\n');
  let istio = 0;
  for (const item of installation()) out(item);
  istio += 3;
  for (let p = 0; p < 3; p++) out(pod(0, p, true));
  let pods = 3;
  let services = 1;
  for (let d = 0; d < deployments; d++) {
    out(deployment(d));
    out(replicaSet(d, false));
    for (let p = 0; p < FULL.podsPerDeployment; p++) out(pod(d, p));
    pods += FULL.podsPerDeployment;
    for (let s = 0; s < FULL.servicesPerDeployment; s++) out(service(d, s));
    services += FULL.servicesPerDeployment;
    for (const o of istioObjects(d)) out(o);
    istio += 4;
  }
  // Bare pods (run by hand or by a tool without ownerReferences), four of each kind, identical but for the name.
  const barePodGroups = Math.max(1, Math.round(deployments / 50));
  for (let g = 0; g < barePodGroups; g++) {
    for (let p = 0; p < 4; p++) out(pod(g, p, false, true));
    pods += 4;
  }
  let noiseObjects = 0;
  const tail = 'kind: List\nmetadata:\n  resourceVersion: ""\n';
  if (options.noise !== false) {
    while (written + tail.length < bytes) {
      out(noise(noiseObjects, deployments));
      noiseObjects++;
    }
  }
  out(tail);
  return { deployments, barePodGroups, pods, services, istioObjects: istio, noiseObjects, bytes: written };
}
