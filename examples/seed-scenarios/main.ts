import { App } from 'cdk8s';

/**
 * The seed documents' scenarios as one cdk8s app: one chart per scenario, each synthesised to
 * dist/<chart>.k8s.yaml. Run `npm run example` from the repository root.
 */
export function buildApp(app: App = new App()): App {
  return app;
}

if (require.main === module) {
  buildApp().synth();
}
