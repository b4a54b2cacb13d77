package io.forkline.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.forkline.format.size.SizeText;
import io.forkline.page.client.TarExtractor;
import io.forkline.page.client.TarFormatException;
import picocli.CommandLine.Model.CommandSpec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static io.forkline.cli.Specs.option;

/**
 * {@code forkline backup create|list|delete|restore|export|schedule}: backups are named, retained
 * (timeline, LSN) pairs; see {@code io.forkline.pageserver.backup.BackupService}.
 */
final class BackupCommand implements CliCommand {
    @Override
    public CommandSpec spec() {
        return Specs.command(this, "Manage backups (retained points of a branch) and their schedules.");
    }

    @Override
    public java.util.List<Sub> subcommands() {
        return java.util.List.of(
                new Sub("create", BackupCommand.Create::new), new Sub("list", BackupCommand.List::new),
                new Sub("delete", BackupCommand.Delete::new), new Sub("restore", BackupCommand.Restore::new),
                new Sub("export", BackupCommand.Export::new), new Sub("schedule", BackupCommand.Schedule::new));
    }


    /** {@code /v1/tenants/T/backups}. */
    private static String backups(TenantOption tenant) {
        return tenant.path() + "/backups";
    }

    /** {@code /v1/tenants/T/backups/ID}. */
    private static String backupPath(IdArgs backup) {
        return backups(backup.tenant) + "/" + AdminClient.seg(backup.id);
    }

    /** {@code /v1/tenants/T/backup-schedules}. */
    private static String schedules(TenantOption tenant) {
        return tenant.path() + "/backup-schedules";
    }

    static final class Create extends ApiCommand {
        final TenantOption tenant = new TenantOption();

        String branch;

        String label;

        @Override
        public CommandSpec spec() {
            CommandSpec spec = command("Take a manual backup of a branch at its last record LSN (at most 10 active per tenant).");
            tenant.addTo(spec);
            spec.addOption(option(String.class, () -> branch, v -> branch = v, "--branch").paramLabel("REF")
                    .defaultValue("main").build());
            spec.addOption(option(String.class, () -> label, v -> label = v, "--label").paramLabel("LABEL").build());
            return spec;
        }

        @Override
        public void run() {
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("branch", branch);
            if (label != null) {
                body.put("label", label);
            }
            JsonNode b = client().post(backups(tenant), body);
            out().println("backup " + b.path("id").asText() + " of " + b.path("branch").asText() + " at "
                    + b.path("lsn").asText() + " " + b.path("status").asText() + " (" + Table.bytes(b.path("size_bytes")) + ")");
        }
    }

    static final class List extends ApiCommand {
        final TenantOption tenant = new TenantOption();

        String branch;

        final JsonOption json = new JsonOption();

        @Override
        public CommandSpec spec() {
            CommandSpec spec = command("List a tenant's backups, oldest first.");
            tenant.addTo(spec);
            spec.addOption(option(String.class, () -> branch, v -> branch = v, "--branch").paramLabel("REF")
                    .description("only backups of this branch").build());
            json.addTo(spec);
            return spec;
        }

        @Override
        public void run() {
            String path = backups(tenant) + (branch == null ? "" : "?branch=" + AdminClient.seg(branch));
            JsonNode arr = client().get(path);
            if (json.print(out(), arr)) {
                return;
            }
            Table table = new Table(out(), "%-12s %-16s %-14s %-11s %-9s %-10s %-24s %-24s %s%n", "ID", "BRANCH", "LSN", "STATUS",
                    "KIND", "SIZE", "CREATED", "EXPIRES", "LABEL");
            for (JsonNode b : arr) {
                table.row(b.path("id").asText(), Table.text(b, "branch"), Table.text(b, "lsn"), b.path("status").asText(),
                        b.path("kind").asText(), Table.bytes(b.path("size_bytes")),
                        Table.text(b, "created_at"), Table.text(b, "expires_at"),
                        b.path("error").isTextual() ? "error: " + b.path("error").asText() : Table.text(b, "label"));
            }
            table.end();
        }
    }

    static final class Delete extends ApiCommand {
        final IdArgs backup = new IdArgs();

        @Override
        public CommandSpec spec() {
            CommandSpec spec = command("Delete a backup (frees its quota slot and lets GC reclaim its point).");
            backup.addTo(spec);
            return spec;
        }

        @Override
        public void run() {
            client().delete(backupPath(backup));
            out().println("backup " + backup.id + " deleted");
        }
    }

    static final class Restore extends ApiCommand {
        final IdArgs backup = new IdArgs();

        String branch;

        @Override
        public CommandSpec spec() {
            CommandSpec spec = command("Create a new branch at a backup's point; the source is not modified.");
            backup.addTo(spec);
            spec.addOption(option(String.class, () -> branch, v -> branch = v, "--branch").paramLabel("NEWREF")
                    .required(true).build());
            return spec;
        }

        @Override
        public void run() {
            JsonNode b = client().post(backupPath(backup) + "/restore", Map.of("branch", branch));
            out().println("branch " + b.path("ref").asText() + " restored from backup " + backup.id + BranchCommand.atTimeline(b));
        }
    }

    static final class Export extends ApiCommand {

        @Override
        public CommandSpec spec() {
            CommandSpec spec = command("Write a backup as a plain PostgreSQL 15 base backup tar (starts without Forkline).");
            backup.addTo(spec);
            spec.addOption(option(Path.class, () -> out, v -> out = v, "--out").paramLabel("FILE.tar")
                    .required(true).build());
            return spec;
        }
        /**
         * Refuses an output path whose directory is missing or not writable, or that is a directory,
         * before anything is downloaded.
         *
         * @throws CliException naming the path and what is wrong with it
         */
        static void checkTarget(Path out) {
            Path abs = out.toAbsolutePath().normalize();
            Path dir = abs.getParent();
            if (Files.isDirectory(abs)) {
                throw new CliException("cannot export to " + out + ": it is a directory; name a file, e.g. " + abs.resolve("backup.tar"));
            }
            if (dir == null || !Files.isDirectory(dir)) {
                throw new CliException("cannot export to " + out + ": directory " + dir + " does not exist");
            }
            if (!Files.isWritable(dir)) {
                throw new CliException("cannot export to " + out + ": directory " + dir + " is not writable");
            }
        }

        /**
         * How to start stock PostgreSQL 15 on the exported tar: unpack, set a password in single-user
         * mode (the export's pg_hba.conf asks for scram-sha-256 on TCP), start on port 5433 with the
         * socket in the data directory (a system cluster on 5432 and /var/run/postgresql are left
         * alone). As root, through user {@code postgres}: postgres refuses to run as root.
         */
        static String startHint(Path tar, String id) {
            Path bin = Path.of("/usr/lib/postgresql/15/bin");
            String b = Files.isDirectory(bin) ? bin + "/" : "";
            String dir = "/var/tmp/forkline-" + id;
            String password = "echo \"ALTER USER postgres PASSWORD 'CHANGE-ME'\" | " + b + "postgres --single -D " + dir + " postgres";
            String start = b + "pg_ctl -D " + dir + " -o '-p 5433 -k " + dir + "' -l " + dir + "/postgres.log start";
            boolean root = "root".equals(System.getProperty("user.name"));
            String unpack = "mkdir -m 700 " + dir + " && tar -xf " + tar + " -C " + dir;
            String steps = root
                    ? unpack + " && chown -R postgres: " + dir + " && su postgres -c \"" + password.replace("\"", "\\\"")
                            + "\" && su postgres -c \"" + start + "\""
                    : unpack + " && " + password + " && " + start;
            return "start it with: " + steps + "; connect with: psql postgresql://postgres@127.0.0.1:5433/postgres";
        }

        final IdArgs backup = new IdArgs();

        Path out;

        @Override
        public void run() {
            checkTarget(out);
            long size = client().download(backupPath(backup) + "/export", out);
            try {
                TarExtractor.Result r = TarExtractor.verify(out);
                out().println("backup " + backup.id + " exported to " + out + " (" + SizeText.human(size) + ", " + r.files()
                        + " files)");
                out().println(startHint(out.toAbsolutePath(), backup.id));
            } catch (TarFormatException | IOException e) {
                try {
                    Files.deleteIfExists(out);
                } catch (IOException cleanup) {
                    e.addSuppressed(cleanup);
                }
                throw new CliException("export of backup " + backup.id + " is incomplete, removed " + out + ": " + e.getMessage());
            }
        }
    }

    static final class Schedule implements CliCommand {
        @Override
        public CommandSpec spec() {
            return Specs.command(this, "Manage backup schedules (at most 5 per tenant).");
        }

        @Override
        public java.util.List<Sub> subcommands() {
            return java.util.List.of(
                    new Sub("create", ScheduleCreate::new), new Sub("list", ScheduleList::new),
                    new Sub("delete", ScheduleDelete::new));
        }
    }



    static final class ScheduleCreate extends ApiCommand {
        final TenantOption tenant = new TenantOption();

        String frequency;

        String start;

        String retention;

        String name;

        String branch;

        @Override
        public CommandSpec spec() {
            CommandSpec spec = command("Create a schedule: backups at each run, each kept for the retention.");
            tenant.addTo(spec);
            spec.addOption(option(String.class, () -> frequency, v -> frequency = v, "--frequency").paramLabel("F")
                    .required(true)
                    .description("hourly, daily, weekly, monthly, or a UNIX cron expression in UTC, e.g. '0 3 * * *'").build());
            spec.addOption(option(String.class, () -> start, v -> start = v, "--start").paramLabel("TIME")
                    .description("time of day HH:MM (UTC) or RFC 3339 time the periods count from (default: 00:00 UTC today)").build());
            spec.addOption(option(String.class, () -> retention, v -> retention = v, "--retention").paramLabel("R")
                    .required(true).description("e.g. 36h, 14d, 8w, 12mo, 2y").build());
            spec.addOption(option(String.class, () -> name, v -> name = v, "--name").paramLabel("NAME").build());
            spec.addOption(option(String.class, () -> branch, v -> branch = v, "--branch").paramLabel("REF")
                    .defaultValue("main").build());
            return spec;
        }

        @Override
        public void run() {
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("branch", branch);
            body.put("frequency", frequency);
            body.put("retention", retention);
            if (start != null) {
                body.put("start", start);
            }
            if (name != null) {
                body.put("name", name);
            }
            JsonNode s = client().post(schedules(tenant), body);
            out().println("schedule " + s.path("id").asText() + " created: " + s.path("frequency").asText() + " backups of "
                    + s.path("branch").asText() + ", kept " + s.path("retention").asText() + ", next run "
                    + s.path("next_run_at").asText());
        }
    }

    static final class ScheduleList extends ApiCommand {
        final TenantOption tenant = new TenantOption();

        final JsonOption json = new JsonOption();

        @Override
        public CommandSpec spec() {
            CommandSpec spec = command("List a tenant's backup schedules.");
            tenant.addTo(spec);
            json.addTo(spec);
            return spec;
        }

        @Override
        public void run() {
            JsonNode arr = client().get(schedules(tenant));
            if (json.print(out(), arr)) {
                return;
            }
            Table table = new Table(out(), "%-13s %-16s %-16s %-16s %-9s %-24s %-10s %s%n", "ID", "NAME", "BRANCH", "FREQUENCY",
                    "RETENTION", "NEXT RUN", "LAST", "LAST BACKUP");
            for (JsonNode s : arr) {
                table.row(s.path("id").asText(), Table.text(s, "name"), s.path("branch").asText(), s.path("frequency").asText(),
                        s.path("retention").asText(), s.path("next_run_at").asText(), Table.text(s, "last_status"),
                        Table.text(s, "last_backup_id"));
            }
            table.end();
        }
    }

    static final class ScheduleDelete extends ApiCommand {
        final IdArgs schedule = new IdArgs();

        @Override
        public CommandSpec spec() {
            CommandSpec spec = command("Delete a schedule; the backups it took stay until they expire.");
            schedule.addTo(spec);
            return spec;
        }

        @Override
        public void run() {
            client().delete(schedules(schedule.tenant) + "/" + AdminClient.seg(schedule.id));
            out().println("schedule " + schedule.id + " deleted (its backups stay until they expire)");
        }
    }
}
