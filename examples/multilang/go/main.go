// The Go twin of examples/multilang/typescript/main.ts: the same two seed scenarios, the same YAML.
package main

import (
	"os"

	"github.com/aws/jsii-runtime-go"
	"github.com/cdk8s-istio-source-ip/cdk8s-istio-source-ip-go/cdk8sistiosourceip"
	"github.com/cdk8s-team/cdk8s-core-go/cdk8s/v2"
)

func buildApp(outdir string) cdk8s.App {
	app := cdk8s.NewApp(&cdk8s.AppProps{Outdir: jsii.String(outdir)})

	// Seed scenario 1: a gateway behind a CDN and an L7 load balancer (2 trusted hops), with a DENY on the client
	// it resolves from X-Forwarded-For, which makes the policy a remoteIpBlocks one.
	ingress := cdk8s.NewChart(app, jsii.String("gateway-two-trusted-proxies"), nil)
	gateway := cdk8sistiosourceip.NewPreservedIngressGateway(ingress, jsii.String("Gateway"), &cdk8sistiosourceip.PreservedIngressGatewayProps{
		Namespace: jsii.String("istio-ingress"),
		TrustChain: cdk8sistiosourceip.TrustChain_Of(
			cdk8sistiosourceip.TrustHop_Cdn(&cdk8sistiosourceip.HopOptions{Name: jsii.String("cdn")}),
			cdk8sistiosourceip.TrustHop_L7LoadBalancer(&cdk8sistiosourceip.HopOptions{Name: jsii.String("alb")}),
		),
	})
	gateway.AddHttpServer(&cdk8sistiosourceip.HttpServerOptions{Hosts: jsii.Strings("httpbin.example.com")})
	gateway.AddRoute(&cdk8sistiosourceip.RouteOptions{
		Host:        jsii.String("httpbin.example.com"),
		BackendHost: jsii.String("httpbin.web.svc.cluster.local"),
		BackendPort: jsii.Number(8000),
	})
	gateway.DenyFrom(jsii.Strings("198.51.100.0/24"), nil)

	// Seed scenario 2: httpbin with TPROXY interception, and an XffSidecarFilter that trusts the gateway's hop.
	eastWest := cdk8s.NewChart(app, jsii.String("tproxy-workload-xff-filter"), &cdk8s.ChartProps{Namespace: jsii.String("web")})
	workload := cdk8sistiosourceip.NewTproxyWorkload(eastWest, jsii.String("Httpbin"), &cdk8sistiosourceip.TproxyWorkloadProps{
		Source: cdk8sistiosourceip.WorkloadSource_NewDeployment(&cdk8sistiosourceip.NewDeploymentOptions{
			Image:       jsii.String("docker.io/citizenstig/httpbin"),
			Name:        jsii.String("httpbin"),
			Port:        jsii.Number(8000),
			ServicePort: jsii.Number(8000),
			Labels:      &map[string]*string{"app": jsii.String("httpbin"), "version": jsii.String("v1")},
		}),
	})
	cdk8sistiosourceip.NewXffSidecarFilter(eastWest, jsii.String("Xff"), &cdk8sistiosourceip.XffSidecarFilterProps{
		Workload:   workload,
		Trust:      cdk8sistiosourceip.XffTrust_TrustedHops(jsii.Number(1)),
		PortNumber: jsii.Number(8000),
	})
	workload.AllowFrom(jsii.Strings("203.0.113.0/24"), &cdk8sistiosourceip.SourceIpRuleOptions{Ports: jsii.Numbers(8000)})

	return app
}

func main() {
	outdir := "dist"
	if len(os.Args) > 1 {
		outdir = os.Args[1]
	}
	buildApp(outdir).Synth()
}
