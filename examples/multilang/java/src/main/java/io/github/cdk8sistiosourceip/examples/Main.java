package io.github.cdk8sistiosourceip.examples;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import io.github.cdk8sistiosourceip.HopOptions;
import io.github.cdk8sistiosourceip.HttpServerOptions;
import io.github.cdk8sistiosourceip.NewDeploymentOptions;
import io.github.cdk8sistiosourceip.PreservedIngressGateway;
import io.github.cdk8sistiosourceip.RouteOptions;
import io.github.cdk8sistiosourceip.SourceIpRuleOptions;
import io.github.cdk8sistiosourceip.TproxyWorkload;
import io.github.cdk8sistiosourceip.TrustChain;
import io.github.cdk8sistiosourceip.TrustHop;
import io.github.cdk8sistiosourceip.WorkloadSource;
import io.github.cdk8sistiosourceip.XffSidecarFilter;
import io.github.cdk8sistiosourceip.XffTrust;
import org.cdk8s.App;
import org.cdk8s.AppProps;
import org.cdk8s.Chart;
import org.cdk8s.ChartProps;

/** The Java twin of examples/multilang/typescript/main.ts: the same two seed scenarios, the same YAML. */
public final class Main {
    private Main() {
    }

    static App buildApp(final String outdir) {
        App app = new App(AppProps.builder().outdir(outdir).build());

        // Seed scenario 1: a gateway behind a CDN and an L7 load balancer (2 trusted hops), with a DENY on the
        // client it resolves from X-Forwarded-For, which makes the policy a remoteIpBlocks one.
        Chart ingress = new Chart(app, "gateway-two-trusted-proxies");
        PreservedIngressGateway gateway = PreservedIngressGateway.Builder.create(ingress, "Gateway")
                .namespace("istio-ingress")
                .trustChain(TrustChain.of(
                        TrustHop.cdn(HopOptions.builder().name("cdn").build()),
                        TrustHop.l7LoadBalancer(HopOptions.builder().name("alb").build())))
                .build();
        gateway.addHttpServer(HttpServerOptions.builder().hosts(List.of("httpbin.example.com")).build());
        gateway.addRoute(RouteOptions.builder()
                .host("httpbin.example.com")
                .backendHost("httpbin.web.svc.cluster.local")
                .backendPort(8000)
                .build());
        gateway.denyFrom(List.of("198.51.100.0/24"));

        // Seed scenario 2: httpbin with TPROXY interception, and an XffSidecarFilter that trusts the gateway's hop.
        Chart eastWest = new Chart(app, "tproxy-workload-xff-filter", ChartProps.builder().namespace("web").build());
        // A sorted map: labels come out in the same order as in the other languages.
        Map<String, String> labels = new TreeMap<>(Map.of("app", "httpbin", "version", "v1"));
        TproxyWorkload workload = TproxyWorkload.Builder.create(eastWest, "Httpbin")
                .source(WorkloadSource.newDeployment(NewDeploymentOptions.builder()
                        .image("docker.io/citizenstig/httpbin")
                        .name("httpbin")
                        .port(8000)
                        .servicePort(8000)
                        .labels(labels)
                        .build()))
                .build();
        XffSidecarFilter.Builder.create(eastWest, "Xff")
                .workload(workload)
                .trust(XffTrust.trustedHops(1))
                .portNumber(8000)
                .build();
        workload.allowFrom(List.of("203.0.113.0/24"), SourceIpRuleOptions.builder().ports(List.of(8000)).build());

        return app;
    }

    public static void main(final String[] args) {
        buildApp(args.length > 0 ? args[0] : "dist").synth();
    }
}
