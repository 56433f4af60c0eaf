package conformance

import (
	"bytes"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"google.golang.org/protobuf/proto"
	"sigs.k8s.io/yaml"

	meshconfig "istio.io/api/mesh/v1alpha1"
	"istio.io/istio/pilot/pkg/features"
	"istio.io/istio/pkg/bootstrap"
	"istio.io/istio/pkg/config/constants"
	"istio.io/istio/pkg/model"
)

// legacyProxyProtocolFilter is the listener filter name pilot-agent's bootstrap template uses on the status port.
const legacyProxyProtocolFilter = "envoy.listener.proxy_protocol"

// StatusPortReport is the status (health check) listener of pilot-agent's Envoy bootstrap.
type StatusPortReport struct {
	Port          uint32               `json:"port"`
	ProxyProtocol *ProxyProtocolReport `json:"proxyProtocol"`
}

// statusPort is pilot-agent's ENVOY_STATUS_PORT: the container's env, else 15021.
func (s ProxySpec) statusPort() int {
	if p, err := strconv.Atoi(s.env["ENVOY_STATUS_PORT"]); err == nil {
		return p
	}
	return 15021
}

// BootstrapTemplate returns the Envoy bootstrap template pilot-agent ships, from the pinned istio.io/istio module.
func BootstrapTemplate() (string, error) {
	dir, err := istioModuleDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "tools", "packaging", "common", "envoy_bootstrap.json"), nil
}

var istioDir struct {
	once sync.Once
	dir  string
	err  error
}

// istioModuleDir is the pinned istio.io/istio module's directory in the module cache.
func istioModuleDir() (string, error) {
	istioDir.once.Do(func() {
		out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "istio.io/istio").Output()
		if err != nil {
			istioDir.err = fmt.Errorf("locating istio.io/istio: %v", err)
			return
		}
		istioDir.dir = strings.TrimSpace(string(out))
	})
	return istioDir.dir, istioDir.err
}

// StatusPort renders the proxy's bootstrap with pilot-agent's bootstrap package, as the agent does with the
// istio-proxy container's ENVOY_STATUS_PORT_ENABLE_PROXY_PROTOCOL, and returns its status listener.
func StatusPort(spec ProxySpec, template string) (*StatusPortReport, error) {
	previous := features.EnvoyStatusPortEnableProxyProtocol
	features.EnvoyStatusPortEnableProxyProtocol = spec.StatusPortProxyProtocol
	defer func() { features.EnvoyStatusPortEnableProxyProtocol = previous }()

	pc := proto.Clone(spec.ProxyConfig).(*meshconfig.ProxyConfig)
	node := &model.Node{
		ID:       fmt.Sprintf("router~10.0.0.1~%s.%s~%s.svc.cluster.local", spec.Name, spec.Namespace, spec.Namespace),
		Locality: &corev3.Locality{},
		Metadata: &model.BootstrapNodeMetadata{NodeMetadata: model.NodeMetadata{
			Namespace: spec.Namespace, Labels: spec.Labels, ClusterID: constants.DefaultClusterName, IstioVersion: IstioVersion,
			ProxyConfig: (*model.NodeMetaProxyConfig)(pc), EnvoyStatusPort: spec.statusPort(), EnvoyPrometheusPort: 15090,
		}},
	}
	var buf bytes.Buffer
	if err := bootstrap.New(bootstrap.Config{Node: node}).WriteTo(template, &buf); err != nil {
		return nil, fmt.Errorf("rendering the bootstrap of %s/%s: %v", spec.Namespace, spec.Name, err)
	}
	var doc struct {
		StaticResources struct {
			Listeners []struct {
				Address struct {
					SocketAddress struct {
						PortValue uint32 `json:"port_value"`
					} `json:"socket_address"`
				} `json:"address"`
				ListenerFilters []struct {
					Name        string         `json:"name"`
					TypedConfig map[string]any `json:"typed_config"`
				} `json:"listener_filters"`
			} `json:"listeners"`
		} `json:"static_resources"`
	}
	// The template is JSON with trailing commas, which Envoy's YAML loader accepts: read it the same way.
	if err := yaml.Unmarshal(buf.Bytes(), &doc); err != nil {
		return nil, fmt.Errorf("reading the bootstrap of %s/%s: %v", spec.Namespace, spec.Name, err)
	}
	port := uint32(spec.statusPort())
	for _, l := range doc.StaticResources.Listeners {
		if l.Address.SocketAddress.PortValue != port {
			continue
		}
		r := &StatusPortReport{Port: port}
		for _, f := range l.ListenerFilters {
			if f.Name == proxyProtocolFilter || f.Name == legacyProxyProtocolFilter {
				allow, _ := f.TypedConfig["allow_requests_without_proxy_protocol"].(bool)
				r.ProxyProtocol = &ProxyProtocolReport{AllowRequestsWithoutProxyProtocol: allow}
			}
		}
		return r, nil
	}
	return nil, fmt.Errorf("the bootstrap of %s/%s has no listener on the status port %d", spec.Namespace, spec.Name, port)
}
