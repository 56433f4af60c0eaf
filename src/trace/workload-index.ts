import { LabelIndex } from './selector-index';
import { WorkloadModel } from '../model/model';
import { entryOf } from '../util/keys';

/** The selector of Service `name` in `namespace`, when the app or input holds that Service. */
export type ServiceSelector = (namespace: string, name: string) => unknown;

/** Workloads by the labels a Service selects, and by name for a host with no known Service. */
export class WorkloadIndex {
  private readonly byLabels = new LabelIndex<WorkloadModel>();
  private readonly byName = new Map<string, WorkloadModel[]>();

  /** `labelsOf` gives a workload's pod labels, when they are more than its selector (the constructs know both). */
  constructor(workloads: readonly WorkloadModel[], private readonly serviceSelector: ServiceSelector,
    labelsOf: (w: WorkloadModel) => { readonly [key: string]: string } = w => w.selector) {
    for (const w of workloads) {
      this.byLabels.add(w.namespace, labelsOf(w), w);
      entryOf(this.byName, `${w.namespace}/${w.name}`, () => []).push(w);
    }
  }

  /** The workloads behind Service host `name` in `namespace`: those its selector picks, else the workload of that name. */
  public behind(name: string, namespace: string): WorkloadModel[] {
    const selector = this.serviceSelector(namespace, name);
    if (selector && typeof selector === 'object' && !Array.isArray(selector)) return this.byLabels.selectedBy(namespace, selector as { [key: string]: string });
    return this.byName.get(`${namespace}/${name}`) ?? [];
  }
}
