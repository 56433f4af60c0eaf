import { App } from 'cdk8s';

/** Adds the east-west scenario charts to `app` (filled in by the owner of this scenario). */
export function addEastWestCharts(app: App): void {
  void app;
}
