package io.forkline.pageserver.diff;

import com.github.difflib.DiffUtils;
import com.github.difflib.UnifiedDiffUtils;
import com.github.difflib.patch.Patch;
import io.forkline.compute.postgres.PostgresException;
import io.forkline.compute.proxy.ComputeAddress;
import io.forkline.compute.postgres.PostgresInstallation;
import io.forkline.pageserver.api.ApiException;

import java.time.Duration;
import java.util.List;

/**
 * Schema of one database on both sides: {@code pg_dump --schema-only --no-owner --no-privileges} of
 * each, compared as a unified diff with 3 lines of context (java-diff-utils), as Neon's schema diff
 * does.
 */
final class SchemaDiff {
    private static final Duration DUMP_TIMEOUT = Duration.ofMinutes(5);

    /** One database's schema diff: {@code diff} is empty when the schemas are equal. */
    record Result(String database, boolean changed, String diff) {
    }

    private SchemaDiff() {
    }

    /**
     * @param from the FROM compute, or null when the database exists only on the TO side
     * @param to   the TO compute, or null when the database exists only on the FROM side
     */
    static Result of(PostgresInstallation pg, String database, ComputeAddress from, ComputeAddress to, String fromName, String toName) {
        List<String> a = from == null ? List.of() : lines(dump(pg, from, database));
        List<String> b = to == null ? List.of() : lines(dump(pg, to, database));
        Patch<String> patch = DiffUtils.diff(a, b);
        if (patch.getDeltas().isEmpty()) {
            return new Result(database, false, "");
        }
        List<String> lines = UnifiedDiffUtils.generateUnifiedDiff(fromName + "/" + database, toName + "/" + database, a, patch, 3);
        return new Result(database, true, String.join("\n", lines) + "\n");
    }

    /**
     * The dump's lines without the "restrict KEY" / "unrestrict KEY" guard meta-commands of pg_dump
     * (15.14+): their key is random per dump, so they would always differ.
     */
    static List<String> lines(String dump) {
        return dump.lines().filter(l -> !l.startsWith("\\restrict ") && !l.startsWith("\\unrestrict ")).toList();
    }

    /** pg_dump --schema-only of {@code database} (over the compute's Unix socket, or TLS to a compute node's). */
    static String dump(PostgresInstallation pg, ComputeAddress address, String database) {
        try {
            return PostgresInstallation.runCommand(DUMP_TIMEOUT, List.of(pg.bin("pg_dump").toString(), "--schema-only",
                    "--no-owner", "--no-privileges", "--dbname=" + address.libpqConnInfo("postgres", database)));
        } catch (PostgresException e) {
            throw ApiException.unavailable("cannot dump the schema of database '" + database + "' at " + address + ": "
                    + e.getMessage());
        }
    }
}
