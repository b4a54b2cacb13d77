package io.forkline.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code forkline endpoint start|stop|resize|logs REF --tenant NAME}, {@code endpoint list --tenant NAME}.
 * A compute's PostgreSQL log is {@code <data-dir>/endpoints/<tenant>/<ref>/postgres.log} on the
 * server ({@code /} in a ref written {@code %2F}); {@code endpoint logs} prints it. Sizes ({@code --size}): xs =
 * shared_buffers 64MB, max_connections 20, work_mem 4MB; s = 128MB/100/4MB (default); m =
 * 512MB/200/8MB; l = 2GB/400/16MB.
 */
@Command(name = "endpoint", description = "Start, stop, resize, configure and list computes; show their logs.")
@Subcommands({EndpointCommand.Start.class, EndpointCommand.Stop.class, EndpointCommand.Resize.class,
        EndpointCommand.Config.class, EndpointCommand.List.class, EndpointCommand.Logs.class})
final class EndpointCommand {
    /** {@code /v1/tenants/T/branches/REF/endpoint/ACTION}. */
    private static String path(BranchArgs branch, String action) {
        return branch.path() + "/endpoint/" + action;
    }

    /** {@code --storage}'s value, checked. @throws CliException naming it when neither lazy nor full */
    static String storage(String value) {
        if (!value.equals("lazy") && !value.equals("full")) {
            throw new CliException("invalid --storage '" + value + "': expected lazy or full");
        }
        return value;
    }

    @Command(name = "start", description = "Start the branch's compute; prints its libpq URI.")
    static final class Start extends ApiCommand {
        @Mixin
        BranchArgs branch;

        @Option(names = "--size", paramLabel = "SIZE", description = "xs, s, m or l (default: the branch's size)")
        String size;

        @Option(names = "--storage", paramLabel = "MODE",
                description = "lazy (relation blocks fetched on first read; the default) or full (a complete basebackup)")
        String storage;

        @Override
        public void run() {
            Map<String, Object> body = new LinkedHashMap<>();
            if (size != null) {
                body.put("size", size);
            }
            if (storage != null) {
                body.put("storage", storage(storage));
            }
            out().println(client().post(path(branch, "start"), body).path("uri").asText());
        }
    }

    @Command(name = "stop", description = "Stop the branch's compute.")
    static final class Stop extends ApiCommand {
        @Mixin
        BranchArgs branch;

        @Override
        public void run() {
            client().post(path(branch, "stop"), Map.of());
            out().println("endpoint " + branch.ref + " stopped");
        }
    }

    @Command(name = "resize", description = "Set the branch's compute size; a running compute restarts with it (same URI).")
    static final class Resize extends ApiCommand {
        @Mixin
        BranchArgs branch;

        @Option(names = "--size", required = true, paramLabel = "SIZE", description = "xs, s, m or l")
        String size;

        @Override
        public void run() {
            JsonNode e = client().post(path(branch, "resize"), Map.of("size", size));
            out().println("endpoint " + branch.ref + " size " + e.path("size").asText() + " (" + e.path("state").asText() + ")"
                    + (e.path("uri").isTextual() ? " " + e.path("uri").asText() : ""));
        }
    }

    @Command(name = "config", description = "Set when the branch's compute is suspended for want of client connections.")
    static final class Config extends ApiCommand {
        @Mixin
        BranchArgs branch;

        @Option(names = "--suspend-after", required = true, paramLabel = "DURATION",
                description = "suspend after this long without a client connection: e.g. 30s, 5m, 1h (0 = never)")
        String suspendAfter;

        @Override
        public void run() {
            JsonNode e = client().post(path(branch, "config"), Map.of("suspend_after", suspendAfter));
            String after = e.path("suspend_after").asText();
            out().println("endpoint " + branch.ref + " (" + e.path("endpoint_id").asText() + ") suspends "
                    + (after.equals("0") ? "never" : "after " + after + " without a client connection"));
        }
    }

    @Command(name = "list", description = "List a tenant's computes: state, size, port, URI, log file.")
    static final class List extends ApiCommand {
        @Mixin
        TenantOption tenant;

        @Mixin
        JsonOption json;

        @Override
        public void run() {
            JsonNode arr = client().get(tenant.path() + "/endpoints");
            if (json.print(out(), arr)) {
                return;
            }
            Table table = new Table(out(), "%-12s %-11s %-12s %-4s %-7s %-6s %-46s %s%n", "REF", "ENDPOINT ID", "STATE", "SIZE",
                    "SUSPEND", "PORT", "URI", "LOG");
            for (JsonNode e : arr) {
                table.row(e.path("ref").asText(), e.path("endpoint_id").asText("-"), e.path("state").asText(),
                        e.path("size").asText(), e.path("suspend_after").asText("-"),
                        e.path("port").isNumber() ? e.path("port").asText() : "-",
                        e.path("uri").isTextual() ? e.path("uri").asText() : "-", e.path("log").asText());
            }
            table.end();
            for (JsonNode e : arr) {
                if (e.path("note").isTextual()) {
                    out().println(e.path("ref").asText() + ": " + e.path("note").asText());
                }
            }
        }
    }

    @Command(name = "logs", description = "Print the PostgreSQL log of a branch's compute (--follow: keep printing).")
    static final class Logs extends ApiCommand {
        @Mixin
        BranchArgs branch;

        @Option(names = "--tail", paramLabel = "N", defaultValue = "100", description = "the last N lines first (default ${DEFAULT-VALUE})")
        int tail;

        @Option(names = "--follow", description = "keep printing what is appended until interrupted (Ctrl-C)")
        boolean follow;

        /** For tests: stop following after this many seconds (0: never). */
        @Option(names = "--follow-seconds", hidden = true, defaultValue = "0")
        int followSeconds;

        @Override
        public void run() {
            if (tail < 0 || tail > 100_000) {
                throw new CliException("invalid --tail " + tail + ": expected 0 to 100000");
            }
            JsonNode r = client().get(path(branch, "logs") + "?tail=" + tail);
            out().print(r.path("text").asText());
            out().flush();
            if (!follow) {
                return;
            }
            long offset = r.path("offset").asLong();
            long end = followSeconds > 0 ? System.nanoTime() + followSeconds * 1_000_000_000L : Long.MAX_VALUE;
            while (System.nanoTime() < end) {
                try {
                    Thread.sleep(500);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
                JsonNode next = client().get(path(branch, "logs") + "?offset=" + offset);
                if (next.path("size").asLong() < offset) {
                    offset = 0; // the log was replaced (branch deleted and made again)
                    continue;
                }
                out().print(next.path("text").asText());
                out().flush();
                offset = next.path("offset").asLong();
            }
        }
    }
}
