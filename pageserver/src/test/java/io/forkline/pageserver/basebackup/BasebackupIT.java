package io.forkline.pageserver.basebackup;

import io.forkline.pageserver.importer.InitdbImporter;
import io.forkline.storage.id.TenantId;
import io.forkline.storage.id.TimelineId;
import io.forkline.storage.lsn.Lsn;
import io.forkline.storage.store.PageStore;
import io.forkline.storage.timeline.TimelineMetadata;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.BufferedOutputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * initdb -> import -> basebackup at the import LSN -> stock postgres starts without replay,
 * serves reads and writes, restarts cleanly. The tar stream variant holds the same files.
 */
class BasebackupIT {
    private PgTestCluster cluster;

    @AfterEach
    void stopPostgresAndDeleteData() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void stockPostgresStartsFromBasebackupWithoutRedo() throws Exception {
        cluster = new PgTestCluster("basebackup");
        Path initdb = cluster.initdb("initdb");
        Clock clock = Clock.fixed(Instant.parse("2025-01-02T03:04:05Z"), ZoneOffset.UTC);
        try (PageStore store = PageStore.open(cluster.root.resolve("store"))) {
            TimelineId tl = TimelineId.generate();
            TimelineMetadata md = new InitdbImporter(store).bootstrap(new TenantId("bb"), tl, initdb);
            long lsn = md.startLsn();

            Path pgdata = cluster.root.resolve("pgdata");
            BasebackupSummary summary = new BasebackupBuilder(store, clock).writeDirectory(tl, lsn, pgdata);
            long segStart = Lsn.nextSegmentStart(lsn);
            assertThat(summary.checkpointLsn()).isEqualTo(segStart + 40);
            assertThat(summary.walStartLsn()).isEqualTo(segStart + 160);
            assertThat(summary.walSegmentFileName()).isEqualTo(Lsn.walFileName(1, Lsn.segmentNo(segStart)));
            assertThat(summary.relationForks()).isGreaterThan(100);
            assertThat(Files.size(pgdata.resolve("pg_wal").resolve(summary.walSegmentFileName())))
                    .isEqualTo(Lsn.WAL_SEGMENT_SIZE);
            // relation files equal initdb's (FSM omitted)
            assertThat(Files.readAllBytes(pgdata.resolve("base/1/1259"))).isEqualTo(Files.readAllBytes(initdb.resolve("base/1/1259")));
            assertThat(Files.readAllBytes(pgdata.resolve("global/1262"))).isEqualTo(Files.readAllBytes(initdb.resolve("global/1262")));
            assertThat(pgdata.resolve("base/1/1259_fsm")).doesNotExist();
            assertThat(Files.readAllBytes(pgdata.resolve("pg_xact/0000"))).isEqualTo(Files.readAllBytes(initdb.resolve("pg_xact/0000")));

            // the tar stream holds the same files with the same bytes
            Path tar = cluster.root.resolve("bb.tar");
            try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(tar), 1 << 16)) {
                new BasebackupBuilder(store, clock).writeTar(tl, lsn, out);
            }
            Path untarred = cluster.root.resolve("untarred");
            Files.createDirectories(untarred);
            io.forkline.compute.postgres.PostgresInstallation.runCommand(java.time.Duration.ofSeconds(60),
                    List.of("tar", "-xf", tar.toString(), "-C", untarred.toString()));
            assertThat(digest(untarred)).isEqualTo(digest(pgdata));

            // pg_waldump decodes our record (header + CRC valid)
            cluster.pg.prepareDirectory(pgdata);
            String dump = cluster.run("pg_waldump", "-p", pgdata.resolve("pg_wal").toString(), "-s",
                    Lsn.format(summary.checkpointLsn()), "-n", "1");
            assertThat(dump).contains("CHECKPOINT_SHUTDOWN").contains("redo " + Lsn.format(summary.checkpointLsn()));

            Map<String, String> pd = ControlFileDataIT.controldata(cluster.run("pg_controldata", pgdata.toString()));
            assertThat(pd.get("Database cluster state")).isEqualTo("shut down");
            assertThat(pd.get("Latest checkpoint location")).isEqualTo(Lsn.format(summary.checkpointLsn()));
            assertThat(pd.get("Latest checkpoint's REDO location")).isEqualTo(Lsn.format(summary.checkpointLsn()));
            assertThat(pd.get("Latest checkpoint's REDO WAL file")).isEqualTo(summary.walSegmentFileName());
            ControlFileData original = ControlFileData.parse(Files.readAllBytes(initdb.resolve("global/pg_control")));
            assertThat(pd.get("Database system identifier")).isEqualTo(Long.toUnsignedString(original.systemIdentifier()));
            assertThat(pd.get("Latest checkpoint's NextOID")).isEqualTo(Integer.toUnsignedString(original.checkPointCopy().nextOid()));

            // start stock postgres: no redo, reads and writes work
            Path log = cluster.root.resolve("postgres.log");
            int port = cluster.start(pgdata, log);
            try (Connection c = cluster.connect(); Statement st = c.createStatement()) {
                ResultSet rs = st.executeQuery("select count(*) from pg_class");
                rs.next();
                assertThat(rs.getInt(1)).isGreaterThan(300);
                st.execute("create table t (id int primary key, v text)");
                st.execute("insert into t select g, 'v' || g from generate_series(1, 1000) g");
                rs = st.executeQuery("select count(*), sum(id) from t");
                rs.next();
                assertThat(rs.getInt(1)).isEqualTo(1000);
                assertThat(rs.getLong(2)).isEqualTo(500500L);
                rs = st.executeQuery("select datname from pg_database order by 1");
                StringBuilder names = new StringBuilder();
                while (rs.next()) {
                    names.append(rs.getString(1)).append(',');
                }
                assertThat(names.toString()).isEqualTo("postgres,template0,template1,");
                rs = st.executeQuery("select pg_current_wal_lsn()");
                rs.next();
                assertThat(Long.compareUnsigned(Lsn.parse(rs.getString(1)), summary.walStartLsn())).isGreaterThan(0);
            }
            // catalog heaps and btree indexes of every connectable database verify
            String amcheck = cluster.run("pg_amcheck", "-h", "127.0.0.1", "-p", Integer.toString(port), "-U", "postgres",
                    "--all", "--install-missing", "--heapallindexed");
            assertThat(amcheck).isEmpty();
            cluster.stop();
            String firstLog = Files.readString(log);
            assertThat(firstLog).contains("database system was shut down at")
                    .contains("database system is ready to accept connections")
                    .doesNotContain("redo starts").doesNotContain("automatic recovery");

            // restart once more: the data written survives a clean shutdown
            cluster.start(pgdata, log);
            try (Connection c = cluster.connect(); Statement st = c.createStatement()) {
                ResultSet rs = st.executeQuery("select count(*) from t");
                rs.next();
                assertThat(rs.getInt(1)).isEqualTo(1000);
                st.execute("create database db2");
            }
            cluster.stop();
            assertThat(Files.readString(log)).doesNotContain("redo starts").doesNotContain("PANIC");
        }
    }

    /** Relative path -> size and CRC of every regular file, and "dir" for directories. */
    private static Map<String, String> digest(Path root) throws Exception {
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                String rel = root.relativize(p).toString();
                if (Files.isDirectory(p)) {
                    out.put(rel, "dir");
                } else {
                    java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
                    crc.update(Files.readAllBytes(p));
                    out.put(rel, Files.size(p) + ":" + crc.getValue());
                }
            }
        }
        return out;
    }
}
