import { parseManifests } from '../../src/explain/manifest-parser';
import { IstioVersion } from '../../src/model/istio-version';
import { trace } from '../../src/trace/app-trace';
import { ADDRESSES } from '../../src/trace/context';
import { PathTrace } from '../../src/trace/trace-types';
import { hopOf, predictedRoles } from '../../src/verify/compare';
import { readObservations } from '../../src/verify/observations';
import { verifyModel } from '../../src/verify/verifier';

/*
 * verify's property, on every accepted case of the property suite: the observations the trace implies (an access-log
 * line in Istio's default format at every Envoy hop, httpbin's /headers at the app) verify as ok, and each one with
 * one value changed is a mismatch, while the others stay ok.
 */

/** What the property checked, for the suite's summary line. */
export const verifyCounter = { apps: 0, paths: 0, observations: 0, changed: 0, ms: 0 };

/** A line in Istio's default text access-log format, with a kubectl --prefix pod name. */
export function accessLogLine(remote: string, xff: string | undefined): string {
  const address = remote.includes(':') ? `[${remote}]:41000` : `${remote}:41000`;
  return `[pod/proxy-0/istio-proxy] [2026-01-01T00:00:00.000Z] "GET /headers HTTP/1.1" 200 - via_upstream - "-" 0 42 1 1 "${xff ?? '-'}" "curl/8.5.0" "0b60ced5-f525-45e5-9233-171eb33b7c95" "httpbin.example.com" "10.244.1.2:8080" outbound|8000||httpbin.web.svc.cluster.local 10.244.0.5:51000 10.244.0.5:8080 ${address} - -`;
}

/**
 * A line in the JSON format of ClientAddressAccessLog.meshConfigProvider(), with a kubectl --prefix pod name, the
 * client-address header when the next hop receives one.
 */
export function jsonAccessLogLine(remote: string, xff: string | undefined, external: string | undefined, header: string | null | undefined): string {
  const address = remote.includes(':') ? `[${remote}]:41000` : `${remote}:41000`;
  return `[pod/proxy-0/istio-proxy] ${JSON.stringify({
    start_time: '2026-01-01T00:00:00.000Z',
    method: 'GET',
    path: '/headers',
    response_code: 200,
    downstream_remote_address: address,
    downstream_direct_remote_address: '10.244.9.9:41000',
    x_forwarded_for: xff ?? null,
    x_envoy_external_address: external ?? null,
    upstream_host: '10.244.1.2:8080',
    ...(header !== undefined ? { client_address_header: header } : {}),
  })}`;
}

/** What verify counted in the JSON format and with a client-address header, for the suite's summary. */
export const verifyJsonCounter = { json: 0, headers: 0 };

/** The observations file the trace of `path` implies, with each observation's text and how to change one value. */
function implied(path: PathTrace): Array<{ entry: object; changed: object }> {
  const out: Array<{ entry: object; changed: object }> = [];
  const roles = predictedRoles(path, false);
  // An address with another role than `address`: the client for anything else, the node for the client.
  const other = (address: string) => (roles.get(address) === 'client' ? ADDRESSES.node : path.clientAddress);
  const base = { path: path.title, client: path.clientAddress };
  path.hops.forEach((hop, i) => {
    const kind = ['gateway', 'sidecar', 'waypoint'].find(k => hop.hop.startsWith(`${k} `));
    if (kind === undefined || hop.clientAddress === undefined || i === path.hops.length - 1) return;
    // Only the first hop of a kind is named by an observation.
    if (hopOf(path, kind)?.hop !== hop) return;
    const next = hopOf(path, kind)!.next;
    const xff = next?.xForwardedFor;
    // A share of the hops log in the JSON format (every other hop of the path), the rest in the default text format.
    if (i % 2 === 0) {
      const external = kind === 'gateway' ? path.hops[path.hops.length - 1].externalAddress : undefined;
      const names = Object.keys(next?.clientAddressHeaders ?? {});
      const header = names.length === 1 ? next!.clientAddressHeaders![names[0]] : names.length === 0 ? null : undefined;
      verifyJsonCounter.json++;
      if (typeof header === 'string') verifyJsonCounter.headers++;
      out.push({
        entry: { ...base, hop: kind, accessLog: jsonAccessLogLine(hop.clientAddress, xff, external, header) },
        changed: { ...base, hop: kind, accessLog: jsonAccessLogLine(other(hop.clientAddress), xff, external, header) },
      });
      return;
    }
    out.push({
      entry: { ...base, hop: kind, accessLog: accessLogLine(hop.clientAddress, xff) },
      changed: { ...base, hop: kind, accessLog: accessLogLine(other(hop.clientAddress), xff) },
    });
  });
  const app = path.hops[path.hops.length - 1];
  // The client-address headers the app receives, as httpbin /headers shows them.
  const clientHeaders = app.clientAddressHeaders ?? {};
  if (Object.keys(clientHeaders).length > 0) verifyJsonCounter.headers++;
  const headers = (xff: string | undefined) => ({
    ...(xff !== undefined ? { 'X-Forwarded-For': xff } : {}),
    ...(app.externalAddress !== undefined ? { 'X-Envoy-External-Address': app.externalAddress } : {}),
    ...clientHeaders,
  });
  const changedXff = app.xForwardedFor === undefined ? path.clientAddress : `${app.xForwardedFor},${other(path.clientAddress)}`;
  out.push({ entry: { ...base, hop: 'app', httpbin: { headers: headers(app.xForwardedFor) } }, changed: { ...base, hop: 'app', httpbin: { headers: headers(changedXff) } } });
  return out;
}

/** Checks the property on one accepted output; throws with the first observation that breaks it. */
export function assertVerifies(manifests: any[], istioVersion?: IstioVersion): void {
  const started = Date.now();
  try {
    check(manifests, istioVersion);
  } finally {
    verifyCounter.ms += Date.now() - started;
  }
}

function check(manifests: any[], istioVersion?: IstioVersion): void {
  const model = parseManifests(manifests);
  const version = istioVersion ?? model.istioVersion ?? IstioVersion.LATEST;
  // HTTP paths, one per title (a TCP path of the same title is another protocol of it).
  const seen = new Set<string>();
  const paths = trace(model, version).paths.filter(p => p.protocol === 'HTTP' && !seen.has(p.title) && seen.add(p.title) !== undefined);
  verifyCounter.apps++;
  const pods = [ADDRESSES.gatewayPod, ADDRESSES.meshClientPod, ADDRESSES.waypointPod];
  for (const path of paths) {
    const observations = implied(path);
    verifyCounter.paths++;
    verifyCounter.observations += observations.length;
    const file = (entries: object[]) => readObservations(JSON.stringify({
      client: path.clientAddress, nodes: [ADDRESSES.node], pods: pods.filter(p => p !== path.clientAddress), observations: entries,
    }), 'implied');
    const report = verifyModel(model, file(observations.map(o => o.entry)), version, false);
    const bad = report.observations.find(o => o.verdict !== 'ok');
    if (bad) throw new Error(`the observations the trace implies do not verify on ${path.title}: ${JSON.stringify(bad)}`);
    observations.forEach((o, i) => {
      verifyCounter.changed++;
      const changed = verifyModel(model, file(observations.map((x, j) => (j === i ? x.changed : x.entry))), version, false);
      const verdicts = changed.observations.map(r => r.verdict);
      const expected = observations.map((_, j) => (j === i ? 'mismatch' : 'ok'));
      if (verdicts.join() !== expected.join()) {
        throw new Error(`one changed value on ${path.title} (${JSON.stringify(o.changed)}) gives ${verdicts.join(', ')}, expected ${expected.join(', ')}`);
      }
    });
  }
}
