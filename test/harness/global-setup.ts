import { GATEWAY_API_CRDS, ISTIO_CRDS, prepareCrdValidators, requireBundlesInCi } from './crd-schemas';
import { prepareEnvoyProtos } from './envoy-protos';

/** Prepares the validation harness's inputs once per test run; every test file then reads them. */
export default function globalSetup(): void {
  const started = Date.now();
  // Under CI a missing bundle fails the whole run here, before any test reports a pass it did not check.
  requireBundlesInCi([ISTIO_CRDS, GATEWAY_API_CRDS]);
  prepareCrdValidators(ISTIO_CRDS);
  prepareCrdValidators(GATEWAY_API_CRDS);
  prepareEnvoyProtos();
  const seconds = (Date.now() - started) / 1000;
  if (seconds > 1) process.stderr.write(`validation harness prepared in ${seconds.toFixed(1)} s\n`);
}
