package io.forkline.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Model.CommandSpec;

import java.util.LinkedHashMap;
import java.util.Map;

import static io.forkline.cli.Specs.option;

/**
 * {@code forkline endpoint start|stop|resize|logs REF --tenant NAME}, {@code endpoint list --tenant NAME}.
 * A compute's PostgreSQL log is {@code <data-dir>/endpoints/<tenant>/<ref>/postgres.log} on the
 * server ({@code /} in a ref written {@code %2F}); {@code endpoint logs} prints it. Sizes ({@code --size}): xs =
 * shared_buffers 64MB, max_connections 20, work_mem 4MB; s = 128MB/100/4MB (default); m =
 * 512MB/200/8MB; l = 2GB/400/16MB.
 */
final class EndpointCommand implements CliCommand {
    @Override
    public CommandSpec spec() {
        return Specs.command(this, "Start, stop, resize, configure and list computes; show their logs.");
    }

    @Override
    public java.util.List<Sub> subcommands() {
        return java.util.List.of(
                new Sub("start", EndpointCommand.Start::new), new Sub("stop", EndpointCommand.Stop::new),
                new Sub("resize", EndpointCommand.Resize::new), new Sub("config", EndpointCommand.Config::new),
                new Sub("list", EndpointCommand.List::new), new Sub("logs", EndpointCommand.Logs::new));
    }

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

    static final class Start extends ApiCommand {
        final BranchArgs branch = new BranchArgs();

        String size;

        String storage;

        @Override
        public CommandSpec spec() {
            CommandSpec spec = command("Start the branch's compute; prints its libpq URI.");
            branch.addTo(spec);
            spec.addOption(option(String.class, () -> size, v -> size = v, "--size").paramLabel("SIZE")
                    .description("xs, s, m or l (default: the branch's size)").build());
            spec.addOption(option(String.class, () -> storage, v -> storage = v, "--storage").paramLabel("MODE")
                    .description("lazy (relation blocks fetched on first read; the default) or full (a complete basebackup)").build());
            return spec;
        }

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

    static final class Stop extends ApiCommand {
        final BranchArgs branch = new BranchArgs();

        @Override
        public CommandSpec spec() {
            CommandSpec spec = command("Stop the branch's compute.");
            branch.addTo(spec);
            return spec;
        }

        @Override
        public void run() {
            client().post(path(branch, "stop"), Map.of());
            out().println("endpoint " + branch.ref + " stopped");
        }
    }

    static final class Resize extends ApiCommand {
        final BranchArgs branch = new BranchArgs();

        String size;

        @Override
        public CommandSpec spec() {
            CommandSpec spec = command("Set the branch's compute size; a running compute restarts with it (same URI).");
            branch.addTo(spec);
            spec.addOption(option(String.class, () -> size, v -> size = v, "--size").paramLabel("SIZE").required(true)
                    .description("xs, s, m or l").build());
            return spec;
        }

        @Override
        public void run() {
            JsonNode e = client().post(path(branch, "resize"), Map.of("size", size));
            out().println("endpoint " + branch.ref + " size " + e.path("size").asText() + " (" + e.path("state").asText() + ")"
                    + (e.path("uri").isTextual() ? " " + e.path("uri").asText() : ""));
        }
    }

    static final class Config extends ApiCommand {
        final BranchArgs branch = new BranchArgs();

        String suspendAfter;

        @Override
        public CommandSpec spec() {
            CommandSpec spec = command("Set when the branch's compute is suspended for want of client connections.");
            branch.addTo(spec);
            spec.addOption(option(String.class, () -> suspendAfter, v -> suspendAfter = v, "--suspend-after")
                    .paramLabel("DURATION").required(true)
                    .description("suspend after this long without a client connection: e.g. 30s, 5m, 1h (0 = never)").build());
            return spec;
        }

        @Override
        public void run() {
            JsonNode e = client().post(path(branch, "config"), Map.of("suspend_after", suspendAfter));
            String after = e.path("suspend_after").asText();
            out().println("endpoint " + branch.ref + " (" + e.path("endpoint_id").asText() + ") suspends "
                    + (after.equals("0") ? "never" : "after " + after + " without a client connection"));
        }
    }

    static final class List extends ApiCommand {
        final TenantOption tenant = new TenantOption();

        final JsonOption json = new JsonOption();

        @Override
        public CommandSpec spec() {
            CommandSpec spec = command("List a tenant's computes: state, size, port, URI, log file.");
            tenant.addTo(spec);
            json.addTo(spec);
            return spec;
        }

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

    static final class Logs extends ApiCommand {
        final BranchArgs branch = new BranchArgs();

        int tail;

        boolean follow;

        /** For tests: stop following after this many seconds (0: never). */
        int followSeconds;

        @Override
        public CommandSpec spec() {
            CommandSpec spec = command("Print the PostgreSQL log of a branch's compute (--follow: keep printing).");
            branch.addTo(spec);
            spec.addOption(option(int.class, () -> tail, v -> tail = v, "--tail").paramLabel("N").defaultValue("100")
                    .description("the last N lines first (default ${DEFAULT-VALUE})").build());
            spec.addOption(option(boolean.class, () -> follow, v -> follow = v, "--follow")
                    .description("keep printing what is appended until interrupted (Ctrl-C)").build());
            spec.addOption(option(int.class, () -> followSeconds, v -> followSeconds = v, "--follow-seconds")
                    .defaultValue("0").hidden(true).paramLabel("<followSeconds>").build());
            return spec;
        }

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
