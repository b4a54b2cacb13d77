package io.forkline.pageserver.api;

import io.forkline.pageserver.metrics.ServerMetrics;

import java.nio.charset.StandardCharsets;

/**
 * Prometheus metrics, outside {@code /v1} (the path Prometheus scrapes by default):
 *
 * <pre>
 *   GET /metrics   -> text/plain; version=0.0.4 ({@link ServerMetrics})
 * </pre>
 */
public final class MetricsRoutes implements Router.Module {
    private final ServerMetrics metrics;

    public MetricsRoutes(ServerMetrics metrics) {
        this.metrics = metrics;
    }

    @Override
    public void register(Router r) {
        r.add("GET", "/metrics", q -> ApiResponse.raw(ServerMetrics.CONTENT_TYPE,
                metrics.scrape().getBytes(StandardCharsets.UTF_8)));
    }
}
