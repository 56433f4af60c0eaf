"""The Python twin of examples/multilang/typescript/main.ts: the same two seed scenarios, the same YAML."""
import sys

from cdk8s import App, Chart
from cdk8s_istio_source_ip import (
    PreservedIngressGateway,
    SourceIpRuleOptions,
    TproxyWorkload,
    TrustChain,
    TrustHop,
    WorkloadSource,
    XffSidecarFilter,
    XffTrust,
)


def build_app(outdir: str = "dist") -> App:
    app = App(outdir=outdir)

    # Seed scenario 1: a gateway behind a CDN and an L7 load balancer (2 trusted hops), with a DENY on the client
    # it resolves from X-Forwarded-For, which makes the policy a remoteIpBlocks one.
    ingress = Chart(app, "gateway-two-trusted-proxies")
    gateway = PreservedIngressGateway(
        ingress,
        "Gateway",
        namespace="istio-ingress",
        trust_chain=TrustChain.of(TrustHop.cdn(name="cdn"), TrustHop.l7_load_balancer(name="alb")),
    )
    gateway.add_http_server(hosts=["httpbin.example.com"])
    gateway.add_route(host="httpbin.example.com", backend_host="httpbin.web.svc.cluster.local", backend_port=8000)
    gateway.deny_from(["198.51.100.0/24"])

    # Seed scenario 2: httpbin with TPROXY interception, and an XffSidecarFilter that trusts the gateway's hop.
    east_west = Chart(app, "tproxy-workload-xff-filter", namespace="web")
    workload = TproxyWorkload(
        east_west,
        "Httpbin",
        source=WorkloadSource.new_deployment(
            image="docker.io/citizenstig/httpbin",
            name="httpbin",
            port=8000,
            service_port=8000,
            labels={"app": "httpbin", "version": "v1"},
        ),
    )
    XffSidecarFilter(east_west, "Xff", workload=workload, trust=XffTrust.trusted_hops(1), port_number=8000)
    workload.allow_from(["203.0.113.0/24"], ports=[8000])

    return app


if __name__ == "__main__":
    build_app(sys.argv[1] if len(sys.argv) > 1 else "dist").synth()
