import { Explainer } from '../../src';
import { docs, gatewayYaml, workloadYaml } from '../explain/fixtures';
const cases: { [k: string]: string } = {
  redirect: docs(gatewayYaml({ etp: 'Local' }), workloadYaml()),
  cluster: docs(gatewayYaml({ etp: 'Cluster' }), workloadYaml()),
  l7: docs(gatewayYaml({ etp: 'Local', serviceAnnotations: { 'source-ip.cdk8s.io/trust-chain': '[{"kind":"l7-load-balancer","name":"alb"}]' } }), workloadYaml()),
  proxySentNotAccepted: docs(gatewayYaml({ etp: 'Local', serviceAnnotations: { 'service.beta.kubernetes.io/aws-load-balancer-proxy-protocol': '*' } }), workloadYaml()),
  proxyAcceptedNotStatus: docs(gatewayYaml({ etp: 'Local', proxyConfig: '{"gatewayTopology":{"proxyProtocol":{}}}', serviceAnnotations: { 'service.beta.kubernetes.io/aws-load-balancer-type': 'external', 'service.beta.kubernetes.io/aws-load-balancer-nlb-target-type': 'ip', 'service.beta.kubernetes.io/aws-load-balancer-target-group-attributes': 'preserve_client_ip.enabled=true,proxy_protocol_v2.enabled=true' } }), workloadYaml()),
  proxyRequiredNotSent: docs(gatewayYaml({ etp: 'Local', proxyConfig: '{"gatewayTopology":{"proxyProtocol":{}}}' }), workloadYaml()),
  clb: docs(gatewayYaml({ etp: 'Local', serviceAnnotations: { 'service.beta.kubernetes.io/aws-load-balancer-backend-protocol': 'tcp' } }), workloadYaml()),
};
for (const [name, yaml] of Object.entries(cases)) {
  const r = Explainer.fromYaml(yaml, { });
  console.log(`=== ${name}`);
  for (const f of r.allFindings()) console.log(`  ${f.severity} ${f.where}: ${f.message}\n      fix: ${f.fix}`);
  if (name === 'redirect' || name === 'l7') console.log(r.toTable());
}
