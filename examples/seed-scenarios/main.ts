import { App } from 'cdk8s';
import { CHARTS_ARE_ALTERNATIVES_CONTEXT_KEY } from '../../src';
import { addAmbientCharts } from './ambient';
import { addCdnCharts } from './cdn';
import { addClientIpUsageCharts } from './client-ip-usage';
import { addClientAddressCharts } from './client-address';
import { addEastWestCharts } from './east-west';
import { addGatewayApiCharts } from './gateway-api';
import { addNorthSouthCharts } from './north-south';
import { addPoliciesCharts } from './policies';
import { addTcpCharts } from './tcp';

/**
 * The seed documents' scenarios as one cdk8s app: one chart per scenario, each synthesised to
 * dist/<chart>.k8s.yaml. Run `npm run example` from the repository root.
 */
export function buildApp(app: App = new App()): App {
  // Each chart is a scenario of its own: they reuse names and are never applied together.
  app.node.setContext(CHARTS_ARE_ALTERNATIVES_CONTEXT_KEY, true);
  addNorthSouthCharts(app);
  addTcpCharts(app);
  addEastWestCharts(app);
  addPoliciesCharts(app);
  addCdnCharts(app);
  addAmbientCharts(app);
  addGatewayApiCharts(app);
  addClientIpUsageCharts(app);
  addClientAddressCharts(app);
  return app;
}

if (require.main === module) {
  // Under `cdk8s synth` (npm run example) synthesis prints the constructs' warnings to standard error itself;
  // in code, SourceIpWarnings.of(app) reads them.
  buildApp().synth();
}
