package io.forkline.pageserver.diff;

import io.forkline.compute.postgres.PostgresInstallation;
import io.forkline.pageserver.api.ApiException;
import io.forkline.pageserver.tenant.TenantService;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;

/**
 * Differences between two points of a tenant's branches ({@link DiffSide}): per database the schema
 * as a unified diff of schema dumps ({@link SchemaDiff}), and per table with a primary key the rows
 * added, removed and changed ({@link DataDiff}). Each side runs on a compute: the branch's own when
 * it shows that side and runs, else a temporary branch with a compute started on demand and deleted
 * afterwards ({@link PointCompute}). The two sides' computes start, and their tables are scanned, at
 * the same time ({@link BothSides}). The data diff reads only the heap blocks the store lists as changed
 * between the two computes' points where that decides it ({@link ChangedPages}).
 */
public final class DiffService {
    /** What to compare. */
    public enum Mode {
        SCHEMA, DATA, BOTH;

        /**
         * @throws ApiException 400 naming the value when it is not {@code schema}, {@code data} or {@code both}
         */
        public static Mode parse(String text) {
            if (text == null || text.isEmpty()) {
                return BOTH;
            }
            try {
                return valueOf(text.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw ApiException.badRequest("invalid mode '" + text + "': expected schema, data or both");
            }
        }
    }

    /** The resolved side: as given and the LSN it resolved to. */
    public record Point(String side, String lsn) {
    }

    /** The whole answer; {@code schema} or {@code data} is {@code null} when not asked for. */
    public record Result(Point from, Point to, List<SchemaDiff.Result> schema, List<DataDiff.Result> data) {
    }

    private final TenantService tenants;
    private final PostgresInstallation pg;

    public DiffService(TenantService tenants, PostgresInstallation pg) {
        this.tenants = tenants;
        this.pg = pg;
    }

    /**
     * Compares {@code fromText} with {@code toText} in {@code tenant}.
     *
     * @throws ApiException 400 for malformed sides, 404 unknown tenant or ref, 409 a point outside the
     *                      branch's restorable history, 403 quotas of the temporary branches, 503 when a
     *                      compute cannot start or be read
     */
    public Result diff(String tenant, String fromText, String toText, Mode mode) {
        tenants.requireTenant(tenant);
        DiffSide from = DiffSide.parse("from", fromText);
        DiffSide to = DiffSide.parse("to", toText);
        BothSides.Pair<PointCompute> computes = open(tenant, from, to);
        try (PointCompute a = computes.from(); PointCompute b = computes.to()) {
            List<String> dbA = DataDiff.databases(a.address());
            List<String> dbB = DataDiff.databases(b.address());
            TreeSet<String> all = new TreeSet<>(dbA);
            all.addAll(dbB);
            List<SchemaDiff.Result> schema = null;
            List<DataDiff.Result> data = null;
            if (mode != Mode.DATA) {
                schema = new ArrayList<>();
                for (String db : all) {
                    schema.add(SchemaDiff.of(pg, db, dbA.contains(db) ? a.address() : null, dbB.contains(db) ? b.address() : null,
                            from.text(), to.text()));
                }
            }
            if (mode != Mode.SCHEMA) {
                data = new ArrayList<>();
                ChangedPages pages = ChangedPages.settle(tenants.store(), a, b);
                for (String db : all) {
                    if (dbA.contains(db) && dbB.contains(db)) {
                        data.addAll(DataDiff.of(db, a.address(), b.address(), pages));
                    }
                }
            }
            return new Result(new Point(from.text(), a.lsn()), new Point(to.text(), b.lsn()), schema, data);
        }
    }

    /** Both sides' computes, started at the same time; when one side fails the other is closed. */
    private BothSides.Pair<PointCompute> open(String tenant, DiffSide from, DiffSide to) {
        try {
            return BothSides.run(() -> PointCompute.open(tenants, tenant, from), () -> PointCompute.open(tenants, tenant, to),
                    PointCompute::close);
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException(e); // PointCompute.open throws no SQLException
        }
    }
}
