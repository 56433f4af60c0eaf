import { App } from 'cdk8s';

/** Adds the policies scenario charts to `app` (filled in by the owner of this scenario). */
export function addPoliciesCharts(app: App): void {
  void app;
}
