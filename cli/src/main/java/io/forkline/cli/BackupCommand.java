package io.forkline.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.forkline.format.size.SizeText;
import io.forkline.page.client.TarExtractor;
import io.forkline.page.client.TarFormatException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code forkline backup create|list|delete|restore|export|schedule}: backups are named, retained
 * (timeline, LSN) pairs; see {@code io.forkline.pageserver.backup.BackupService}.
 */
@Command(name = "backup", description = "Manage backups (retained points of a branch) and their schedules.")
@Subcommands({BackupCommand.Create.class, BackupCommand.List.class, BackupCommand.Delete.class,
        BackupCommand.Restore.class, BackupCommand.Export.class, BackupCommand.Schedule.class})
final class BackupCommand {
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

    @Command(name = "create", description = "Take a manual backup of a branch at its last record LSN (at most 10 active per tenant).")
    static final class Create extends ApiCommand {
        @Mixin
        TenantOption tenant;

        @Option(names = "--branch", paramLabel = "REF", defaultValue = "main")
        String branch;

        @Option(names = "--label", paramLabel = "LABEL")
        String label;

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

    @Command(name = "list", description = "List a tenant's backups, oldest first.")
    static final class List extends ApiCommand {
        @Mixin
        TenantOption tenant;

        @Option(names = "--branch", paramLabel = "REF", description = "only backups of this branch")
        String branch;

        @Mixin
        JsonOption json;

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

    @Command(name = "delete", description = "Delete a backup (frees its quota slot and lets GC reclaim its point).")
    static final class Delete extends ApiCommand {
        @Mixin
        IdArgs backup;

        @Override
        public void run() {
            client().delete(backupPath(backup));
            out().println("backup " + backup.id + " deleted");
        }
    }

    @Command(name = "restore", description = "Create a new branch at a backup's point; the source is not modified.")
    static final class Restore extends ApiCommand {
        @Mixin
        IdArgs backup;

        @Option(names = "--branch", required = true, paramLabel = "NEWREF")
        String branch;

        @Override
        public void run() {
            JsonNode b = client().post(backupPath(backup) + "/restore", Map.of("branch", branch));
            out().println("branch " + b.path("ref").asText() + " restored from backup " + backup.id + BranchCommand.atTimeline(b));
        }
    }

    @Command(name = "export", description = "Write a backup as a plain PostgreSQL 15 base backup tar (starts without Forkline).")
    static final class Export extends ApiCommand {
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

        @Mixin
        IdArgs backup;

        @Option(names = "--out", required = true, paramLabel = "FILE.tar")
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

    @Command(name = "schedule", description = "Manage backup schedules (at most 5 per tenant).")
    @Subcommands({ScheduleCreate.class, ScheduleList.class, ScheduleDelete.class})
    static final class Schedule {
    }

    @Command(name = "create", description = "Create a schedule: backups at each run, each kept for the retention.")
    static final class ScheduleCreate extends ApiCommand {
        @Mixin
        TenantOption tenant;

        @Option(names = "--frequency", required = true, paramLabel = "F",
                description = "hourly, daily, weekly, monthly, or a UNIX cron expression in UTC, e.g. '0 3 * * *'")
        String frequency;

        @Option(names = "--start", paramLabel = "TIME", description = "time of day HH:MM (UTC) or RFC 3339 time the periods count from (default: 00:00 UTC today)")
        String start;

        @Option(names = "--retention", required = true, paramLabel = "R", description = "e.g. 36h, 14d, 8w, 12mo, 2y")
        String retention;

        @Option(names = "--name", paramLabel = "NAME")
        String name;

        @Option(names = "--branch", paramLabel = "REF", defaultValue = "main")
        String branch;

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

    @Command(name = "list", description = "List a tenant's backup schedules.")
    static final class ScheduleList extends ApiCommand {
        @Mixin
        TenantOption tenant;

        @Mixin
        JsonOption json;

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

    @Command(name = "delete", description = "Delete a schedule; the backups it took stay until they expire.")
    static final class ScheduleDelete extends ApiCommand {
        @Mixin
        IdArgs schedule;

        @Override
        public void run() {
            client().delete(schedules(schedule.tenant) + "/" + AdminClient.seg(schedule.id));
            out().println("schedule " + schedule.id + " deleted (its backups stay until they expire)");
        }
    }
}
