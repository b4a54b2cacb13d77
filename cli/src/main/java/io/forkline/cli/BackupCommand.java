package io.forkline.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.forkline.pageserver.backup.TarExtractor;
import io.forkline.pageserver.backup.TarFormatException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code forkline backup create|list|delete|restore|export|schedule}: backups are named, retained
 * (timeline, LSN) pairs; see {@code io.forkline.pageserver.backup.BackupService}.
 */
@Command(name = "backup", description = "Manage backups (retained points of a branch) and their schedules.",
        subcommands = {BackupCommand.Create.class, BackupCommand.List.class, BackupCommand.Delete.class,
                BackupCommand.Restore.class, BackupCommand.Export.class, BackupCommand.Schedule.class})
final class BackupCommand {
    private static String backups(String tenant) {
        return "/v1/tenants/" + AdminClient.seg(tenant) + "/backups";
    }

    private static String schedules(String tenant) {
        return "/v1/tenants/" + AdminClient.seg(tenant) + "/backup-schedules";
    }

    /** 1536 → "1.5 KiB". */
    static String human(long bytes) {
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
        double v = bytes;
        int u = 0;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return u == 0 ? bytes + " B" : String.format("%.1f %s", v, units[u]);
    }

    private static String text(JsonNode n, String field) {
        JsonNode v = n.path(field);
        return v.isMissingNode() || v.isNull() ? "-" : v.asText();
    }

    @Command(name = "create", description = "Take a manual backup of a branch at its last record LSN (at most 10 active per tenant).")
    static final class Create implements Runnable {
        @Spec
        CommandSpec spec;

        @Option(names = "--tenant", required = true, paramLabel = "NAME")
        String tenant;

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
            JsonNode b = Main.client(spec).post(backups(tenant), body);
            Main.out(spec).println("backup " + b.path("id").asText() + " of " + b.path("branch").asText() + " at "
                    + b.path("lsn").asText() + " " + b.path("status").asText() + " (" + human(b.path("size_bytes").asLong()) + ")");
        }
    }

    @Command(name = "list", description = "List a tenant's backups, oldest first.")
    static final class List implements Runnable {
        @Spec
        CommandSpec spec;

        @Option(names = "--tenant", required = true, paramLabel = "NAME")
        String tenant;

        @Option(names = "--branch", paramLabel = "REF", description = "only backups of this branch")
        String branch;

        @Option(names = "--json")
        boolean json;

        @Override
        public void run() {
            String path = backups(tenant) + (branch == null ? "" : "?branch=" + AdminClient.seg(branch));
            JsonNode arr = Main.client(spec).get(path);
            PrintWriter out = Main.out(spec);
            if (json) {
                out.println(arr.toPrettyString());
                return;
            }
            out.printf("%-12s %-16s %-14s %-11s %-9s %-10s %-24s %-24s %s%n", "ID", "BRANCH", "LSN", "STATUS", "KIND", "SIZE",
                    "CREATED", "EXPIRES", "LABEL");
            for (JsonNode b : arr) {
                out.printf("%-12s %-16s %-14s %-11s %-9s %-10s %-24s %-24s %s%n", b.path("id").asText(), text(b, "branch"),
                        text(b, "lsn"), b.path("status").asText(), b.path("kind").asText(),
                        b.path("size_bytes").isNumber() ? human(b.path("size_bytes").asLong()) : "-", text(b, "created_at"),
                        text(b, "expires_at"), b.path("error").isTextual() ? "error: " + b.path("error").asText() : text(b, "label"));
            }
        }
    }

    @Command(name = "delete", description = "Delete a backup (frees its quota slot and lets GC reclaim its point).")
    static final class Delete implements Runnable {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "ID")
        String id;

        @Option(names = "--tenant", required = true, paramLabel = "NAME")
        String tenant;

        @Override
        public void run() {
            Main.client(spec).delete(backups(tenant) + "/" + AdminClient.seg(id));
            Main.out(spec).println("backup " + id + " deleted");
        }
    }

    @Command(name = "restore", description = "Create a new branch at a backup's point; the source is not modified.")
    static final class Restore implements Runnable {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "ID")
        String id;

        @Option(names = "--tenant", required = true, paramLabel = "NAME")
        String tenant;

        @Option(names = "--branch", required = true, paramLabel = "NEWREF")
        String branch;

        @Override
        public void run() {
            JsonNode b = Main.client(spec).post(backups(tenant) + "/" + AdminClient.seg(id) + "/restore", Map.of("branch", branch));
            Main.out(spec).println("branch " + b.path("ref").asText() + " restored from backup " + id + " at "
                    + b.path("ancestor_lsn").asText() + " (timeline " + b.path("timeline_id").asText() + ")");
        }
    }

    @Command(name = "export", description = "Write a backup as a plain PostgreSQL 15 base backup tar (starts without Forkline).")
    static final class Export implements Runnable {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "ID")
        String id;

        @Option(names = "--tenant", required = true, paramLabel = "NAME")
        String tenant;

        @Option(names = "--out", required = true, paramLabel = "FILE.tar")
        Path out;

        @Override
        public void run() {
            long size = Main.client(spec).download(backups(tenant) + "/" + AdminClient.seg(id) + "/export", out);
            try {
                TarExtractor.Result r = TarExtractor.verify(out);
                Main.out(spec).println("backup " + id + " exported to " + out + " (" + human(size) + ", " + r.files()
                        + " files; start it with: mkdir D && tar -xf " + out + " -C D && chmod 700 D && postgres -D D)");
            } catch (TarFormatException | IOException e) {
                try {
                    Files.deleteIfExists(out);
                } catch (IOException cleanup) {
                    e.addSuppressed(cleanup);
                }
                throw new CliException("export of backup " + id + " is incomplete, removed " + out + ": " + e.getMessage());
            }
        }
    }

    @Command(name = "schedule", description = "Manage backup schedules (at most 5 per tenant).",
            subcommands = {ScheduleCreate.class, ScheduleList.class, ScheduleDelete.class})
    static final class Schedule {
    }

    @Command(name = "create", description = "Create a schedule: backups at each run, each kept for the retention.")
    static final class ScheduleCreate implements Runnable {
        @Spec
        CommandSpec spec;

        @Option(names = "--tenant", required = true, paramLabel = "NAME")
        String tenant;

        @Option(names = "--frequency", required = true, paramLabel = "F",
                description = "hourly, daily, weekly, monthly, or a UNIX cron expression in UTC, e.g. '0 3 * * *'")
        String frequency;

        @Option(names = "--start", paramLabel = "TIME", description = "RFC 3339 time of the first run (default: now)")
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
            JsonNode s = Main.client(spec).post(schedules(tenant), body);
            Main.out(spec).println("schedule " + s.path("id").asText() + " created: " + s.path("frequency").asText() + " backups of "
                    + s.path("branch").asText() + ", kept " + s.path("retention").asText() + ", next run "
                    + s.path("next_run_at").asText());
        }
    }

    @Command(name = "list", description = "List a tenant's backup schedules.")
    static final class ScheduleList implements Runnable {
        @Spec
        CommandSpec spec;

        @Option(names = "--tenant", required = true, paramLabel = "NAME")
        String tenant;

        @Option(names = "--json")
        boolean json;

        @Override
        public void run() {
            JsonNode arr = Main.client(spec).get(schedules(tenant));
            PrintWriter out = Main.out(spec);
            if (json) {
                out.println(arr.toPrettyString());
                return;
            }
            out.printf("%-13s %-16s %-16s %-16s %-9s %-24s %-10s %s%n", "ID", "NAME", "BRANCH", "FREQUENCY", "RETENTION",
                    "NEXT RUN", "LAST", "LAST BACKUP");
            for (JsonNode s : arr) {
                out.printf("%-13s %-16s %-16s %-16s %-9s %-24s %-10s %s%n", s.path("id").asText(), text(s, "name"),
                        s.path("branch").asText(), s.path("frequency").asText(), s.path("retention").asText(),
                        s.path("next_run_at").asText(), text(s, "last_status"), text(s, "last_backup_id"));
            }
        }
    }

    @Command(name = "delete", description = "Delete a schedule; the backups it took stay until they expire.")
    static final class ScheduleDelete implements Runnable {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "ID")
        String id;

        @Option(names = "--tenant", required = true, paramLabel = "NAME")
        String tenant;

        @Override
        public void run() {
            Main.client(spec).delete(schedules(tenant) + "/" + AdminClient.seg(id));
            Main.out(spec).println("schedule " + id + " deleted (its backups stay until they expire)");
        }
    }
}
