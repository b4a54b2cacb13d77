package io.forkline.pageserver.backup;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.forkline.pageserver.api.ApiException;
import io.forkline.pageserver.tenant.BranchInfo;
import io.forkline.pageserver.testing.TestClock;
import io.forkline.pageserver.testing.TestServer;
import io.forkline.pageserver.testing.TestServer.Response;
import io.forkline.storage.id.TimelineId;
import io.forkline.storage.lsn.Lsn;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Backups without computes (one initdb'd tenant per test, the server's scheduler thread running on
 * a clock the test moves): quotas over HTTP, schedules taking and expiring backups, a failing
 * schedule, and a backup keeping a deleted branch's timeline alive.
 */
class BackupServiceIT {
    private static final Instant T0 = Instant.parse("2030-01-01T00:00:00Z");
    /** The server's clock, fixed at an instant each test sets. */
    private static final TestClock clock = new TestClock();
    private static final ObjectMapper json = new ObjectMapper();
    private static TestServer server;
    private static BackupService backups;

    @BeforeAll
    static void start() throws Exception {
        clock.setFixed(T0);
        server = TestServer.start("backup-service", clock);
        backups = server.backups();
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    private static Response post(String path, Map<String, String> body) throws Exception {
        return server.post(path, json.writeValueAsString(body));
    }

    @Test
    void manualBackupsAndSchedulesHaveQuotas() throws Exception {
        clock.setFixed(T0);
        server.tenants().createTenant("quota");
        long initLsn = Lsn.parse(server.tenants().listTenants().stream().filter(t -> t.name().equals("quota")).findFirst()
                .orElseThrow().initLsn());
        String first = null;
        for (int i = 0; i < BackupService.MAX_MANUAL_BACKUPS; i++) {
            JsonNode b = post("/v1/tenants/quota/backups", Map.of("label", "b" + i)).expect(201);
            assertThat(b.path("status").asText()).isEqualTo("completed");
            assertThat(b.path("branch").asText()).isEqualTo("main");
            assertThat(b.path("kind").asText()).isEqualTo("manual");
            assertThat(b.path("lsn").asText()).isEqualTo(Lsn.format(initLsn));
            assertThat(b.path("size_bytes").asLong()).isGreaterThan(1_000_000L).isEqualTo(b.path("size_bytes").asLong() / 8192 * 8192);
            assertThat(b.path("expires_at").isNull()).isTrue();
            first = first == null ? b.path("id").asText() : first;
        }
        Response over = post("/v1/tenants/quota/backups", Map.of());
        assertThat(over.status()).isEqualTo(403);
        JsonNode err = over.body().path("error");
        assertThat(err.path("code").asText()).isEqualTo("quota_exceeded");
        assertThat(err.path("message").asText()).contains("10 of 10");

        // deleting one frees the quota
        assertThat(server.delete("/v1/tenants/quota/backups/" + first).status()).isEqualTo(200);
        assertThat(post("/v1/tenants/quota/backups", Map.of()).status()).isEqualTo(201);
        assertThat(backups.listBackups("quota", null)).hasSize(10);

        for (int i = 0; i < BackupService.MAX_SCHEDULES; i++) {
            backups.createSchedule("quota", null, "daily", null, "7d", "s" + i);
        }
        Response sched = post("/v1/tenants/quota/backup-schedules", Map.of("frequency", "hourly", "retention", "1d"));
        assertThat(sched.status()).isEqualTo(403);
        assertThat(sched.body().path("error").path("code").asText()).isEqualTo("quota_exceeded");

        Response bad = post("/v1/tenants/quota/backup-schedules", Map.of("frequency", "sometimes", "retention", "1d"));
        assertThat(bad.status()).isEqualTo(400);
        assertThat(bad.text()).contains("'sometimes'");
        for (ScheduleInfo s : backups.listSchedules("quota")) {
            backups.deleteSchedule("quota", s.id());
        }
    }

    @Test
    void schedulesTakeBackupsThatExpireByTheirRetentionEvenAfterTheScheduleIsDeleted() {
        clock.setFixed(T0);
        server.tenants().createTenant("sched");
        ScheduleInfo s = backups.createSchedule("sched", "main", "hourly", "2030-01-01T00:30:00Z", "2h", "hourly-2h");
        assertThat(s.nextRunAt()).isEqualTo("2030-01-01T00:30:00Z");
        assertThat(backups.listSchedules("sched")).extracting(ScheduleInfo::id).containsExactly(s.id());

        clock.setFixed(T0.plus(Duration.ofMinutes(29)));
        backups.tick();
        assertThat(backups.listBackups("sched", null)).isEmpty();

        // the server's own scheduler thread takes the due backup (listed as in progress while it runs)
        clock.setFixed(T0.plus(Duration.ofMinutes(30)));
        Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> {
            List<BackupInfo> listed = backups.listBackups("sched", null);
            return listed.size() == 1 && !BackupInfo.IN_PROGRESS.equals(listed.get(0).status());
        });
        BackupInfo b1 = backups.listBackups("sched", null).get(0);
        assertThat(b1.kind()).isEqualTo(BackupInfo.SCHEDULED);
        assertThat(b1.scheduleId()).isEqualTo(s.id());
        assertThat(b1.label()).isEqualTo("hourly-2h");
        assertThat(b1.status()).isEqualTo(BackupInfo.COMPLETED);
        assertThat(b1.createdAt()).isEqualTo("2030-01-01T00:30:00Z");
        assertThat(b1.expiresAt()).isEqualTo("2030-01-01T02:30:00Z");
        assertThat(b1.sizeBytes()).isPositive();
        ScheduleInfo after = backups.listSchedules("sched").get(0);
        assertThat(after.nextRunAt()).isEqualTo("2030-01-01T01:30:00Z");
        assertThat(after.lastBackupId()).isEqualTo(b1.id());
        assertThat(after.lastStatus()).isEqualTo("completed");

        clock.setFixed(T0.plus(Duration.ofMinutes(90)));
        backups.tick();
        // nothing was written since: no second backup of the same LSN; the first is kept as long as this run's would be
        assertThat(backups.listBackups("sched", null)).extracting(BackupInfo::id).containsExactly(b1.id());
        assertThat(backups.listBackups("sched", null).get(0).expiresAt()).isEqualTo("2030-01-01T03:30:00Z");
        assertThat(backups.listSchedules("sched").get(0).lastStatus()).isEqualTo(BackupService.UNCHANGED);
        assertThat(backups.listSchedules("sched").get(0).nextRunAt()).isEqualTo("2030-01-01T02:30:00Z");
        assertThat(backups.retainedLsns("sched")).hasSize(1);

        // down for hours: the missed runs collapse into one; the first two have expired
        clock.setFixed(T0.plus(Duration.ofHours(5)));
        backups.tick();
        List<BackupInfo> now = backups.listBackups("sched", null);
        assertThat(now).extracting(BackupInfo::createdAt).containsExactly("2030-01-01T05:00:00Z");
        assertThat(backups.listSchedules("sched").get(0).nextRunAt()).isEqualTo("2030-01-01T05:30:00Z");

        // deleting the schedule keeps its backup until the backup's own expiry
        backups.deleteSchedule("sched", s.id());
        clock.setFixed(T0.plus(Duration.ofHours(6).plusMinutes(59)));
        backups.tick();
        assertThat(backups.listBackups("sched", null)).hasSize(1);
        clock.setFixed(T0.plus(Duration.ofHours(7)));
        backups.tick();
        assertThat(backups.listBackups("sched", null)).isEmpty();
        assertThat(backups.retainedLsns("sched")).isEmpty();
    }

    @Test
    void aDailyScheduleRunsAtItsTimeOfDayAndLabelsItsBackupsWithItsName() {
        clock.setFixed(Instant.parse("2030-03-01T10:17:00Z"));
        server.tenants().createTenant("tod");
        ScheduleInfo midnight = backups.createSchedule("tod", null, "daily", null, "7d", null);
        assertThat(midnight.nextRunAt()).as("not at creation: 00:00 UTC").isEqualTo("2030-03-02T00:00:00Z");
        assertThat(midnight.name()).isEqualTo("daily");
        ScheduleInfo early = backups.createSchedule("tod", null, "daily", "03:30", "7d", "nightly");
        assertThat(early.nextRunAt()).isEqualTo("2030-03-02T03:30:00Z");
        ScheduleInfo late = backups.createSchedule("tod", null, "daily", "23:05", "7d", "late");
        assertThat(late.nextRunAt()).isEqualTo("2030-03-01T23:05:00Z");
        assertThatThrownBy(() -> backups.createSchedule("tod", null, "daily", "25:00", "7d", null))
                .isInstanceOf(ApiException.class).hasMessageContaining("'25:00'");

        clock.setFixed(Instant.parse("2030-03-01T23:05:00Z"));
        backups.tick();
        clock.setFixed(Instant.parse("2030-03-02T00:00:00Z"));
        backups.tick();
        assertThat(backups.listBackups("tod", null)).extracting(BackupInfo::label).containsExactly("late", "daily");
        assertThat(backups.listBackups("tod", null)).extracting(BackupInfo::createdAt)
                .containsExactly("2030-03-01T23:05:00Z", "2030-03-02T00:00:00Z");
        clock.setFixed(Instant.parse("2030-03-02T03:30:00Z"));
        backups.tick();
        assertThat(backups.listBackups("tod", null)).extracting(BackupInfo::label).containsExactly("late", "daily", "nightly");
        for (ScheduleInfo s : backups.listSchedules("tod")) {
            backups.deleteSchedule("tod", s.id());
        }
        for (BackupInfo b : backups.listBackups("tod", null)) {
            backups.deleteBackup("tod", b.id());
        }
    }

    @Test
    void aFailingScheduleLeavesAFailedEntryAndRetriesAtItsNextRun() {
        clock.setFixed(T0);
        server.tenants().createTenant("flaky");
        server.tenants().createBranch("flaky", "dev", "main", null, null);
        ScheduleInfo s = backups.createSchedule("flaky", "dev", "0 * * * *", "2030-01-01T00:30:00Z", "36h", null);
        assertThat(s.nextRunAt()).isEqualTo("2030-01-01T01:00:00Z");
        server.tenants().deleteBranch("flaky", "dev");

        clock.setFixed(T0.plus(Duration.ofHours(1)));
        backups.tick();
        List<BackupInfo> l = backups.listBackups("flaky", null);
        assertThat(l).hasSize(1);
        assertThat(l.get(0).status()).isEqualTo(BackupInfo.FAILED);
        assertThat(l.get(0).error()).contains("dev");
        assertThat(l.get(0).expiresAt()).isEqualTo("2030-01-02T13:00:00Z");
        ScheduleInfo after = backups.listSchedules("flaky").get(0);
        assertThat(after.lastStatus()).isEqualTo("failed");
        assertThat(after.nextRunAt()).isEqualTo("2030-01-01T02:00:00Z");
        assertThat(backups.retainedLsns("flaky")).isEmpty();

        server.tenants().createBranch("flaky", "dev", "main", null, null);
        clock.setFixed(T0.plus(Duration.ofHours(2)));
        backups.tick();
        assertThat(backups.listBackups("flaky", "dev")).extracting(BackupInfo::status)
                .containsExactly(BackupInfo.FAILED, BackupInfo.COMPLETED);
        assertThat(backups.listBackups("flaky", "main")).isEmpty();
        backups.deleteSchedule("flaky", s.id());
    }

    @Test
    void aBackupKeepsTheTimelineOfADeletedBranchUntilItIsGone() {
        clock.setFixed(T0);
        server.tenants().createTenant("pin");
        BranchInfo feature = server.tenants().createBranch("pin", "feature", "main", null, null);
        TimelineId tl = TimelineId.parse(feature.timelineId());
        BackupInfo b = backups.createBackup("pin", "feature", "before delete");
        assertThat(b.timelineId()).isEqualTo(feature.timelineId());
        assertThat(backups.pins(tl)).isTrue();
        assertThat(backups.retainedLsns("pin")).containsEntry(tl, List.of(Lsn.parse(b.lsn())));

        server.tenants().deleteBranch("pin", "feature");
        assertThat(server.store().timeline(tl)).as("pinned timeline kept").isNotNull();

        // the ref is gone; the backup still restores from its timeline
        BranchInfo restored = backups.restore("pin", b.id(), "feature-again");
        assertThat(restored.ancestorLsn()).isEqualTo(b.lsn());
        assertThat(server.store().timeline(TimelineId.parse(restored.timelineId())).ancestor()).isEqualTo(tl);
        assertThatThrownBy(() -> backups.restore("pin", b.id(), "feature-again")).isInstanceOf(ApiException.class)
                .hasMessageContaining("already exists");

        // the backup goes, but the restored branch still reads from the timeline: kept
        backups.deleteBackup("pin", b.id());
        assertThat(backups.pins(tl)).isFalse();
        assertThat(server.store().timeline(tl)).isNotNull();
        // once the restored branch is gone too, the timeline is deleted
        server.tenants().deleteBranch("pin", "feature-again");
        backups.tick();
        assertThat(server.store().timeline(tl)).isNull();
    }

    @Test
    void anActiveLeaseKeepsTheTimelineOfADeletedBranchUntilItExpires() {
        clock.setFixed(T0);
        server.tenants().createTenant("lease");
        BranchInfo plain = server.tenants().createBranch("lease", "plain", "main", null, null);
        BranchInfo backed = server.tenants().createBranch("lease", "backed", "main", null, null);
        TimelineId plainTl = TimelineId.parse(plain.timelineId());
        TimelineId backedTl = TimelineId.parse(backed.timelineId());
        server.server().retention().createLease("lease", "plain", plain.ancestorLsn(), "1h");
        server.server().retention().createLease("lease", "backed", backed.ancestorLsn(), "1h");
        BackupInfo b = backups.createBackup("lease", "backed", null);

        server.tenants().deleteBranch("lease", "plain");
        server.tenants().deleteBranch("lease", "backed");
        backups.deleteBackup("lease", b.id()); // the backup lets go; the lease still holds the timeline
        server.tenants().reaper().runOnce();
        assertThat(server.store().timeline(plainTl)).as("leased timeline of a deleted branch kept").isNotNull();
        assertThat(server.store().timeline(backedTl)).as("leased timeline kept after its backup went").isNotNull();

        clock.setFixed(T0.plus(Duration.ofHours(1)));
        server.tenants().reaper().runOnce();
        assertThat(server.store().timeline(plainTl)).as("deleted once the lease expired").isNull();
        assertThat(server.store().timeline(backedTl)).as("deleted once the lease expired").isNull();
        assertThat(server.store().listMetadata("retired-timeline/lease/")).isEmpty();
    }
}
