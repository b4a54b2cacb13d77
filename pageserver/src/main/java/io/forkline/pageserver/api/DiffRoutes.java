package io.forkline.pageserver.api;

import io.forkline.pageserver.diff.DiffService;

/**
 * Diffs between two points of a tenant ({@link DiffService}):
 *
 * <pre>
 *   GET /v1/tenants/{t}/diff?from=SIDE&amp;to=SIDE[&amp;mode=schema|data|both]
 *       -> {"from":{"side","lsn"},"to":{"side","lsn"},
 *           "schema":[{"database","changed","diff"}] | null,
 *           "data":[{"database","table","added","removed","changed","sample":[{"key","change"}],"note"}] | null}
 * </pre>
 *
 * A SIDE is {@code REF}, {@code REF@LSN} or {@code REF@TIMESTAMP}. Computes for past points (or
 * stopped branches) are started for the request and removed afterwards, so it may take seconds.
 */
public final class DiffRoutes implements Router.Module {
    private final DiffService diffs;

    public DiffRoutes(DiffService diffs) {
        this.diffs = diffs;
    }

    @Override
    public void register(Router r) {
        r.add("GET", "/v1/tenants/{tenant}/diff", q -> diffs.diff(q.param("tenant"), q.query().get("from"), q.query().get("to"),
                DiffService.Mode.parse(q.query().get("mode"))));
    }
}
