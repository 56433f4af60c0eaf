package conformance

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/sets"
	metadatafake "k8s.io/client-go/metadata/fake"
	clienttesting "k8s.io/client-go/testing"

	"istio.io/istio/pkg/config/schema/gvr"
	"istio.io/istio/pkg/kube"
)

// gatewayAPIBundleVersion is the Gateway API release whose CRDs the cluster is taken to have: the one the pinned
// Istio uses (v1.6). istiod ignores the TLSRoute, GRPCRoute and BackendTLSPolicy CRDs unless their
// bundle-version annotation reaches a minimum, and the fake cluster's CRDs carry none.
const gatewayAPIBundleVersion = "v1.6.1"

const bundleVersionAnnotation = "gateway.networking.k8s.io/bundle-version"

// annotateGatewayAPICRDs makes the fake cluster's Gateway API CRDs carry the bundle-version annotation, as
// `kubectl apply` of the release's CRDs leaves them: every CRD the fake registry creates or updates gets it.
func annotateGatewayAPICRDs(c kube.Client) {
	fake, ok := c.Metadata().(*metadatafake.FakeMetadataClient)
	if !ok {
		return
	}
	gatewayAPI := sets.New(gvr.GatewayClass.Resource+"."+gvr.GatewayClass.Group, gvr.KubernetesGateway.Resource+"."+gvr.KubernetesGateway.Group,
		gvr.HTTPRoute.Resource+"."+gvr.HTTPRoute.Group, gvr.GRPCRoute.Resource+"."+gvr.GRPCRoute.Group, gvr.TCPRoute.Resource+"."+gvr.TCPRoute.Group,
		gvr.TLSRoute.Resource+"."+gvr.TLSRoute.Group, gvr.ReferenceGrant.Resource+"."+gvr.ReferenceGrant.Group)
	annotate := func(action clienttesting.Action) (bool, runtime.Object, error) {
		write, ok := action.(interface{ GetObject() runtime.Object })
		if !ok {
			return false, nil, nil
		}
		crd, ok := write.GetObject().(*metav1.PartialObjectMetadata)
		if ok && gatewayAPI.Has(crd.Name) {
			if crd.Annotations == nil {
				crd.Annotations = map[string]string{}
			}
			crd.Annotations[bundleVersionAnnotation] = gatewayAPIBundleVersion
		}
		return false, nil, nil // the tracker stores the annotated object
	}
	fake.PrependReactor("create", "customresourcedefinitions", annotate)
	fake.PrependReactor("update", "customresourcedefinitions", annotate)
}
