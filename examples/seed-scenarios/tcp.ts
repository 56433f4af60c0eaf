import { App } from 'cdk8s';

/** Adds the tcp scenario charts to `app` (filled in by the owner of this scenario). */
export function addTcpCharts(app: App): void {
  void app;
}
