// Package conformance checks Kubernetes and Istio manifests with Istio's own code: the validation webhook's
// functions, and the config generator that istiod runs for each gateway and sidecar. It knows nothing about the
// library that wrote the manifests: it reads a directory of YAML object sets and reports what Istio generated.
package conformance
