import { Testing } from 'cdk8s';
import { addCdnCharts } from '../examples/seed-scenarios/cdn';
import { Explainer } from '../src';
const app = Testing.app();
addCdnCharts(app);
for (const c of app.charts) console.log(Explainer.fromChart(c).toTable());
