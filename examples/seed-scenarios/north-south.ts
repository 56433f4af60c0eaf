import { App } from 'cdk8s';

/** Adds the north-south scenario charts to `app` (filled in by the owner of this scenario). */
export function addNorthSouthCharts(app: App): void {
  void app;
}
