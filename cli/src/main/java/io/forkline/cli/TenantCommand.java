package io.forkline.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Model.CommandSpec;

import java.util.Map;

import static io.forkline.cli.Specs.option;
import static io.forkline.cli.Specs.positional;

/**
 * {@code forkline tenant create NAME | list [--json] | config NAME [KEY=VALUE ...] | import NAME --from FILE.tar
 * | import NAME --from-primary URI | delete NAME [--force]}.
 */
final class TenantCommand implements CliCommand {
    @Override
    public CommandSpec spec() {
        return Specs.command(this, "Manage tenants.");
    }

    @Override
    public java.util.List<Sub> subcommands() {
        return java.util.List.of(
                new Sub("create", TenantCommand.Create::new), new Sub("list", TenantCommand.List::new),
                new Sub("config", TenantConfigCommand::new), new Sub("import", TenantCommand.Import::new),
                new Sub("delete", TenantCommand.Delete::new));
    }

    static final class Create extends ApiCommand {
        String name;

        @Override
        public CommandSpec spec() {
            CommandSpec spec = command("Create a tenant from initdb, with its main branch.");
            spec.addPositional(positional("0", "NAME", String.class, () -> name, v -> name = v).build());
            return spec;
        }

        @Override
        public void run() {
            JsonNode t = client().post("/v1/tenants", Map.of("name", name));
            out().println("tenant " + t.path("name").asText() + " created (initdb at " + t.path("init_lsn").asText() + ")");
        }
    }

    static final class Delete extends ApiCommand {
        String name;

        boolean force;

        @Override
        public CommandSpec spec() {
            CommandSpec spec = command("Delete a tenant with all its branches, backups and history (frees its storage).");
            spec.addPositional(positional("0", "NAME", String.class, () -> name, v -> name = v).build());
            spec.addOption(option(boolean.class, () -> force, v -> force = v, "--force")
                    .description("stop its running computes instead of refusing").build());
            return spec;
        }

        @Override
        public void run() {
            JsonNode d = client().delete(AdminClient.tenantPath(name) + (force ? "?force=true" : ""));
            out().println("tenant " + d.path("deleted").asText() + " deleted: " + d.path("branches").asLong() + " branches, "
                    + d.path("timelines").asLong() + " timelines, " + Table.bytes(d.path("freed_bytes")) + " of history freed");
        }
    }

    static final class Import extends ApiCommand {
        String name;

        java.nio.file.Path from;

        String fromPrimary;

        String fromPublication;

        String publication;

        @Override
        public CommandSpec spec() {
            CommandSpec spec = command("Create a tenant from a plain PostgreSQL 15 base backup tar (e.g. a backup"
                    + " export), from a running PostgreSQL 15 primary whose main then mirrors it (--from-primary), or from a"
                    + " publication that main then subscribes to (--from-publication, --publication).");
            spec.addPositional(positional("0", "NAME", String.class, () -> name, v -> name = v).build());
            spec.addOption(option(java.nio.file.Path.class, () -> from, v -> from = v, "--from").paramLabel("FILE.tar")
                    .description("a plain PostgreSQL 15 base backup tar").build());
            spec.addOption(option(String.class, () -> fromPrimary, v -> fromPrimary = v, "--from-primary").paramLabel("URI")
                    .description("a running PostgreSQL 15 primary:"
                            + " postgresql://USER[:PASSWORD]@HOST[:PORT][/DB], USER with REPLICATION. Takes a base backup, creates"
                            + " slot forkline_NAME and streams the primary's WAL into main for as long as the server runs; main"
                            + " takes no writes, its branches do.").build());
            spec.addOption(option(String.class, () -> fromPublication, v -> fromPublication = v, "--from-publication")
                    .paramLabel("URI").description("a database with wal_level=logical"
                            + " (e.g. a managed service): postgresql://USER[:PASSWORD]@HOST[:PORT][/DB], USER with REPLICATION and"
                            + " SELECT on the published tables. Copies the schema (pg_dump --schema-only) into main, then"
                            + " subscribes main to --publication: the tables are copied and followed. DDL on the source is not"
                            + " replicated: run it on main too (tenant list shows a disabled subscription otherwise).").build());
            spec.addOption(option(String.class, () -> publication, v -> publication = v, "--publication").paramLabel("PUB")
                    .description("the publication to follow (with --from-publication)").build());
            return spec;
        }

        /** Runs the import request on another thread, printing progress lines to stderr while it runs. */
        private JsonNode withProgress(java.util.function.Supplier<JsonNode> call) {
            java.util.concurrent.CompletableFuture<JsonNode> f = java.util.concurrent.CompletableFuture.supplyAsync(call,
                    r -> Thread.ofPlatform().daemon().start(r));
            while (true) {
                try {
                    return f.get(2, java.util.concurrent.TimeUnit.SECONDS);
                } catch (java.util.concurrent.TimeoutException e) {
                    try {
                        for (JsonNode v : client().get("/v1/imports")) {
                            if (v.path("tenant").asText().equals(name)) {
                                err().println(progressLine(v));
                                err().flush();
                            }
                        }
                    } catch (RuntimeException ignored) {
                        // progress is best effort; the import's own answer decides
                    }
                } catch (java.util.concurrent.ExecutionException e) {
                    if (e.getCause() instanceof RuntimeException re) {
                        throw re;
                    }
                    throw new CliException(String.valueOf(e.getCause()));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new CliException("interrupted while the import ran (it goes on on the server)");
                }
            }
        }

        @Override
        public void run() {
            int sources = (from == null ? 0 : 1) + (fromPrimary == null ? 0 : 1) + (fromPublication == null ? 0 : 1);
            if (sources != 1) {
                throw new CliException("give exactly one of --from FILE.tar, --from-primary URI and --from-publication URI");
            }
            if ((fromPublication == null) != (publication == null)) {
                throw new CliException(fromPublication == null ? "--publication goes with --from-publication URI"
                        : "--from-publication needs --publication PUB (the publication's name on the source)");
            }
            if (fromPublication != null) {
                JsonNode t = client().post("/v1/tenants/import", Map.of("name", name, "from_publication", fromPublication,
                        "publication", publication));
                out().println("tenant " + t.path("name").asText() + " subscribes to publication " + publication
                        + "; its tables are being copied into main (tenant list shows the progress and the lag)");
                return;
            }
            if (fromPrimary != null) {
                JsonNode t = withProgress(() -> client().post("/v1/tenants/import", Map.of("name", name, "from_primary",
                        fromPrimary)));
                out().println("tenant " + t.path("name").asText() + " imported from the primary; main is consistent from "
                        + t.path("init_lsn").asText() + " and mirrors it (tenant list shows the lag)");
                return;
            }
            java.nio.file.Path abs = from.toAbsolutePath().normalize();
            if (!java.nio.file.Files.isRegularFile(abs)) {
                throw new CliException("--from '" + from + "' is not a file");
            }
            // the server runs on this machine: it reads the tar at this path
            JsonNode t = client().post("/v1/tenants/import", Map.of("name", name, "path", abs.toString()));
            out().println("tenant " + t.path("name").asText() + " imported from " + abs + " (at " + t.path("init_lsn").asText() + ")");
        }
    }

    /**
     * One progress line of an import ({@code GET /v1/imports}): phase, bytes of the phase done and
     * expected, rate and the time left at that rate.
     */
    static String progressLine(JsonNode v) {
        StringBuilder b = new StringBuilder("import of ").append(v.path("tenant").asText()).append(": ")
                .append(v.path("phase").asText());
        boolean known = v.path("bytes_total").isNumber();
        if (known || v.path("bytes_done").asLong() > 0) {
            b.append(' ').append(Table.bytes(v.path("bytes_done")));
        }
        if (known) {
            b.append(" of ").append(Table.bytes(v.path("bytes_total")));
        }
        if (v.path("percent").isNumber()) {
            b.append(String.format(java.util.Locale.ROOT, " (%.1f %%)", v.path("percent").asDouble()));
        }
        if (v.path("rate_bytes_per_second").asLong() > 0) {
            b.append(", ").append(Table.bytes(v.path("rate_bytes_per_second"))).append("/s");
        }
        if (v.path("eta_seconds").isNumber()) {
            b.append(", about ").append(v.path("eta_seconds").asLong()).append(" s left");
        }
        b.append(String.format(java.util.Locale.ROOT, " [%d s]", v.path("elapsed_seconds").asLong()));
        return b.toString();
    }

    /** {@code -} for a tenant that mirrors nothing, else state, lag and the primary (or the publication followed). */
    static String mirror(JsonNode m) {
        if (m.isMissingNode() || m.isNull()) {
            return "-";
        }
        if (m.has("publication")) {
            StringBuilder b = new StringBuilder("logical ").append(m.path("state").asText());
            if (m.path("tables_total").asLong() > 0 && m.path("tables_ready").asLong() < m.path("tables_total").asLong()) {
                b.append(", ").append(m.path("tables_ready").asLong()).append('/').append(m.path("tables_total").asLong())
                        .append(" tables copied");
                JsonNode copy = m.path("copy");
                if (copy.path("percent").isNumber()) {
                    b.append(String.format(java.util.Locale.ROOT, " (%.1f %%", copy.path("percent").asDouble()));
                    if (copy.path("rate_bytes_per_second").isNumber()) {
                        b.append(", ").append(Table.bytes(copy.path("rate_bytes_per_second"))).append("/s");
                    }
                    if (copy.path("eta_seconds").isNumber()) {
                        b.append(", about ").append(copy.path("eta_seconds").asLong()).append(" s left");
                    }
                    b.append(')');
                }
            }
            if (m.path("lag_bytes").isNumber()) {
                b.append(", lag ").append(Table.bytes(m.path("lag_bytes")));
            }
            return b.append(", ").append(m.path("publication").asText()).append(" of ").append(m.path("source").asText())
                    .toString();
        }
        StringBuilder b = new StringBuilder(m.path("state").asText());
        if (m.path("lag_bytes").isNumber()) {
            b.append(", lag ").append(Table.bytes(m.path("lag_bytes"))).append(" / ")
                    .append(String.format(java.util.Locale.ROOT, "%.1f s", m.path("lag_seconds").asDouble()));
        }
        b.append(", at ").append(m.path("last_record_lsn").asText()).append(" of ").append(m.path("primary").asText());
        return b.toString();
    }

    static final class List extends ApiCommand {
        final JsonOption json = new JsonOption();

        @Override
        public CommandSpec spec() {
            CommandSpec spec = command("List tenants.");
            json.addTo(spec);
            return spec;
        }

        @Override
        public void run() {
            JsonNode arr = client().get("/v1/tenants");
            if (json.print(out(), arr)) {
                return;
            }
            Table table = new Table(out(), "%-24s %-26s %-12s %-10s %-10s %-10s %s%n", "NAME", "CREATED", "INIT LSN", "LOGICAL",
                    "PHYSICAL", "HISTORY", "MIRROR");
            java.util.List<String> errors = new java.util.ArrayList<>();
            for (JsonNode t : arr) {
                table.row(t.path("name").asText(), t.path("created_at").asText(), t.path("init_lsn").asText(),
                        Table.bytes(t.path("logical_size_bytes")), Table.bytes(t.path("total_physical_size_bytes")),
                        Table.bytes(t.path("history_size_bytes")),
                        mirror(t.has("subscription") ? t.path("subscription") : t.path("mirror")));
                if (t.path("mirror").path("error").isTextual()) {
                    errors.add("mirror of " + t.path("name").asText() + ": " + t.path("mirror").path("error").asText());
                }
                if (t.path("subscription").path("error").isTextual()) {
                    errors.add("subscription of " + t.path("name").asText() + ": "
                            + t.path("subscription").path("error").asText());
                }
            }
            table.end();
            for (String e : errors) {
                out().println(e);
            }
        }
    }
}
