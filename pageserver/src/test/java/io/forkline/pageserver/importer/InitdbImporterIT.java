package io.forkline.pageserver.importer;

import io.forkline.pageserver.basebackup.ControlFileData;
import io.forkline.pageserver.basebackup.PgTestCluster;
import io.forkline.pageserver.basebackup.TenantBootstrapFiles;
import io.forkline.storage.id.TenantId;
import io.forkline.storage.id.TimelineId;
import io.forkline.storage.key.Key;
import io.forkline.storage.key.RelSizeValue;
import io.forkline.storage.key.RelTag;
import io.forkline.storage.lsn.Lsn;
import io.forkline.storage.store.PageStore;
import io.forkline.storage.timeline.TimelineMetadata;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Imports a real initdb directory and checks the stored keys against the files and pg_waldump. */
class InitdbImporterIT {
    /** initdb's scratch directory; closed (postgres stopped, directory deleted) after each test. */
    private PgTestCluster cluster;

    @AfterEach
    void deleteData() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void importsInitdbDirectoryAtTheEndOfItsShutdownCheckpoint() throws Exception {
        cluster = new PgTestCluster("importer");
        Path data = cluster.initdb("data");
        ControlFileData control = ControlFileData.parse(Files.readAllBytes(data.resolve("global/pg_control")));

        // pg_waldump stops right after the shutdown checkpoint: "invalid record length at <next>"
        String waldump = waldumpError(cluster, data, control.checkPoint());
        Matcher m = Pattern.compile("invalid record length at ([0-9A-F]+/[0-9A-F]+)").matcher(waldump);
        assertThat(m.find()).as(waldump).isTrue();
        long expectedLsn = Lsn.parse(m.group(1));

        InitdbImporter.Inspection inspection = InitdbImporter.inspect(data);
        assertThat(inspection.checkpointLsn()).isEqualTo(control.checkPoint());
        assertThat(Lsn.format(inspection.importLsn())).isEqualTo(Lsn.format(expectedLsn));

        try (PageStore store = PageStore.open(cluster.root.resolve("store"))) {
            TenantId tenant = new TenantId("t1");
            TimelineId tl = TimelineId.generate();
            TimelineMetadata md = new InitdbImporter(store).bootstrap(tenant, tl, data);
            long lsn = md.startLsn();
            assertThat(lsn).isEqualTo(expectedLsn);
            assertThat(store.lastRecordLsn(tl)).isEqualTo(lsn);

            // databases 1, 4, 5 and global
            for (int db : new int[] {1, 4, 5}) {
                assertThat(store.get(tl, Key.dbDir(RelTag.DEFAULT_TABLESPACE_OID, db), lsn)).isNotNull();
                assertThat(store.get(tl, Key.relmap(RelTag.DEFAULT_TABLESPACE_OID, db), lsn))
                        .isEqualTo(Files.readAllBytes(data.resolve("base/" + db + "/pg_filenode.map")));
            }
            assertThat(store.get(tl, Key.relmap(RelTag.GLOBAL_TABLESPACE_OID, 0), lsn))
                    .isEqualTo(Files.readAllBytes(data.resolve("global/pg_filenode.map")));

            // a relation: pg_class of template1 (relfilenode 1259 after initdb), main fork and vm
            for (int fork : new int[] {RelTag.MAIN_FORK, RelTag.FSM_FORK, RelTag.VM_FORK}) {
                RelTag rel = new RelTag(RelTag.DEFAULT_TABLESPACE_OID, 1, 1259, fork);
                byte[] file = Files.readAllBytes(data.resolve(rel.path()));
                RelSizeValue size = RelSizeValue.decode(store.get(tl, Key.relSize(rel), lsn));
                assertThat(size.nblocks()).isEqualTo(file.length / 8192);
                assertThat(size.createdLsn()).isEqualTo(lsn);
                for (int b = 0; b < size.nblocks(); b++) {
                    assertThat(store.get(tl, Key.relBlock(rel, b), lsn))
                            .isEqualTo(Arrays.copyOfRange(file, b * 8192, (b + 1) * 8192));
                }
            }
            // a shared relation: pg_database (1262)
            RelTag pgDatabase = new RelTag(RelTag.GLOBAL_TABLESPACE_OID, 0, 1262, RelTag.MAIN_FORK);
            assertThat(store.get(tl, Key.relBlock(pgDatabase, 0), lsn))
                    .isEqualTo(Arrays.copyOf(Files.readAllBytes(data.resolve("global/1262")), 8192));

            // SLRUs and checkpoint state
            assertThat(store.get(tl, Key.slruPage(Key.SLRU_CLOG, 0), lsn))
                    .isEqualTo(Files.readAllBytes(data.resolve("pg_xact/0000")));
            assertThat(store.get(tl, Key.slruPage(Key.SLRU_MULTIXACT_OFFSETS, 0), lsn)).hasSize(8192);
            assertThat(store.get(tl, Key.slruPage(Key.SLRU_MULTIXACT_MEMBERS, 0), lsn)).hasSize(8192);
            assertThat(store.get(tl, Key.control(), lsn)).isEqualTo(control.checkPointCopy().encode());

            // bootstrap files
            assertThat(TenantBootstrapFiles.controlFile(store, tenant).toBytes())
                    .isEqualTo(Files.readAllBytes(data.resolve("global/pg_control")));
            assertThat(TenantBootstrapFiles.config(store, tenant)).contains("lc_messages").doesNotContain("#");

            // importing again into the same timeline id is refused
            assertThatThrownBy(() -> new InitdbImporter(store).bootstrap(tenant, tl, data))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(tl.toString());
        }
    }

    @Test
    void refusesADirectoryThatIsNotShutDown() throws Exception {
        cluster = new PgTestCluster("importer-bad");
        Path data = cluster.initdb("data");
        byte[] raw = Files.readAllBytes(data.resolve("global/pg_control"));
        raw[100] ^= 1; // inside checkPointCopy: CRC no longer matches
        Files.write(data.resolve("global/pg_control"), raw);
        assertThatThrownBy(() -> InitdbImporter.inspect(data)).isInstanceOf(ImportException.class)
                .hasMessageContaining("CRC");
    }

    private static String waldumpError(PgTestCluster cluster, Path data, long from) {
        try {
            cluster.run("pg_waldump", "-p", data.resolve("pg_wal").toString(), "-s", Lsn.format(from));
            throw new AssertionError("pg_waldump unexpectedly found no end of WAL");
        } catch (RuntimeException e) {
            return e.getMessage();
        }
    }
}
