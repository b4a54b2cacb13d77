package io.forkline.pageserver.basebackup;

import io.forkline.storage.lsn.Lsn;
import io.forkline.wal.xlog.CheckPoint;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Parses a real initdb pg_control and compares every field with what {@code pg_controldata} prints. */
class ControlFileDataIT {
    /** initdb's scratch directory; closed (postgres stopped, directory deleted) after each test. */
    private PgTestCluster cluster;

    @AfterEach
    void deleteData() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void parsesRealPgControlLikePgControldataAndWritesItBackIdentically() throws Exception {
        cluster = new PgTestCluster("controlfile");
        Path dir = cluster.initdb("data");
        byte[] raw = Files.readAllBytes(dir.resolve("global/pg_control"));
        Map<String, String> pd = controldata(cluster.run("pg_controldata", dir.toString()));

        ControlFileData c = ControlFileData.parse(raw);
        CheckPoint cp = c.checkPointCopy();

        assertThat(raw).hasSize(ControlFileDataDescriptor.FILE_SIZE);
        assertThat(Integer.toString(c.pgControlVersion())).isEqualTo(pd.get("pg_control version number"));
        assertThat(Integer.toString(c.catalogVersionNo())).isEqualTo(pd.get("Catalog version number"));
        assertThat(Long.toUnsignedString(c.systemIdentifier())).isEqualTo(pd.get("Database system identifier"));
        assertThat(c.state()).isEqualTo(ControlFileDataDescriptor.DB_SHUTDOWNED);
        assertThat(pd.get("Database cluster state")).isEqualTo("shut down");
        assertThat(Lsn.format(c.checkPoint())).isEqualTo(pd.get("Latest checkpoint location"));
        assertThat(Lsn.format(cp.redo())).isEqualTo(pd.get("Latest checkpoint's REDO location"));
        assertThat(Integer.toString(cp.thisTimeLineId())).isEqualTo(pd.get("Latest checkpoint's TimeLineID"));
        assertThat(Integer.toString(cp.prevTimeLineId())).isEqualTo(pd.get("Latest checkpoint's PrevTimeLineID"));
        assertThat(cp.fullPageWrites() ? "on" : "off").isEqualTo(pd.get("Latest checkpoint's full_page_writes"));
        assertThat((cp.nextXid() >>> 32) + ":" + Integer.toUnsignedString(cp.nextXid32()))
                .isEqualTo(pd.get("Latest checkpoint's NextXID"));
        assertThat(Integer.toUnsignedString(cp.nextOid())).isEqualTo(pd.get("Latest checkpoint's NextOID"));
        assertThat(Integer.toUnsignedString(cp.nextMulti())).isEqualTo(pd.get("Latest checkpoint's NextMultiXactId"));
        assertThat(Integer.toUnsignedString(cp.nextMultiOffset())).isEqualTo(pd.get("Latest checkpoint's NextMultiOffset"));
        assertThat(Integer.toUnsignedString(cp.oldestXid())).isEqualTo(pd.get("Latest checkpoint's oldestXID"));
        assertThat(Integer.toUnsignedString(cp.oldestXidDb())).isEqualTo(pd.get("Latest checkpoint's oldestXID's DB"));
        assertThat(Integer.toUnsignedString(cp.oldestActiveXid())).isEqualTo(pd.get("Latest checkpoint's oldestActiveXID"));
        assertThat(Integer.toUnsignedString(cp.oldestMulti())).isEqualTo(pd.get("Latest checkpoint's oldestMultiXid"));
        assertThat(Integer.toUnsignedString(cp.oldestMultiDb())).isEqualTo(pd.get("Latest checkpoint's oldestMulti's DB"));
        assertThat(Integer.toUnsignedString(cp.oldestCommitTsXid())).isEqualTo(pd.get("Latest checkpoint's oldestCommitTsXid"));
        assertThat(Integer.toUnsignedString(cp.newestCommitTsXid())).isEqualTo(pd.get("Latest checkpoint's newestCommitTsXid"));
        assertThat(Lsn.format(c.unloggedLsn())).isEqualTo(pd.get("Fake LSN counter for unlogged rels"));
        assertThat(Lsn.format(c.minRecoveryPoint())).isEqualTo(pd.get("Minimum recovery ending location"));
        assertThat(Integer.toString(c.minRecoveryPointTli())).isEqualTo(pd.get("Min recovery ending loc's timeline"));
        assertThat(Lsn.format(c.backupStartPoint())).isEqualTo(pd.get("Backup start location"));
        assertThat(Lsn.format(c.backupEndPoint())).isEqualTo(pd.get("Backup end location"));
        assertThat(c.backupEndRequired() ? "yes" : "no").isEqualTo(pd.get("End-of-backup record required"));
        assertThat(new String[] {"minimal", "replica", "logical"}[c.walLevel()]).isEqualTo(pd.get("wal_level setting"));
        assertThat(c.walLogHints() ? "on" : "off").isEqualTo(pd.get("wal_log_hints setting"));
        assertThat(Integer.toString(c.maxConnections())).isEqualTo(pd.get("max_connections setting"));
        assertThat(Integer.toString(c.maxWorkerProcesses())).isEqualTo(pd.get("max_worker_processes setting"));
        assertThat(Integer.toString(c.maxWalSenders())).isEqualTo(pd.get("max_wal_senders setting"));
        assertThat(Integer.toString(c.maxPreparedXacts())).isEqualTo(pd.get("max_prepared_xacts setting"));
        assertThat(Integer.toString(c.maxLocksPerXact())).isEqualTo(pd.get("max_locks_per_xact setting"));
        assertThat(c.trackCommitTimestamp() ? "on" : "off").isEqualTo(pd.get("track_commit_timestamp setting"));
        assertThat(Integer.toString(c.maxAlign())).isEqualTo(pd.get("Maximum data alignment"));
        assertThat(c.floatFormat()).isEqualTo(ControlFileDataDescriptor.FLOATFORMAT_VALUE);
        assertThat(Integer.toString(c.blcksz())).isEqualTo(pd.get("Database block size"));
        assertThat(Integer.toString(c.relsegSize())).isEqualTo(pd.get("Blocks per segment of large relation"));
        assertThat(Integer.toString(c.xlogBlcksz())).isEqualTo(pd.get("WAL block size"));
        assertThat(Integer.toString(c.xlogSegSize())).isEqualTo(pd.get("Bytes per WAL segment"));
        assertThat(Integer.toString(c.nameDataLen())).isEqualTo(pd.get("Maximum length of identifiers"));
        assertThat(Integer.toString(c.indexMaxKeys())).isEqualTo(pd.get("Maximum columns in an index"));
        assertThat(Integer.toString(c.toastMaxChunkSize())).isEqualTo(pd.get("Maximum size of a TOAST chunk"));
        assertThat(Integer.toString(c.loblksize())).isEqualTo(pd.get("Size of a large-object chunk"));
        assertThat(c.float8ByVal() ? "by value" : "by reference").isEqualTo(pd.get("Float8 argument passing"));
        assertThat(Integer.toString(c.dataChecksumVersion())).isEqualTo(pd.get("Data page checksum version"));
        assertThat(HexFormat.of().formatHex(c.mockAuthenticationNonce())).isEqualTo(pd.get("Mock authentication nonce"));
        // pg_control's time is set when the file is written (UpdateControlFile), the checkpoint's when
        // CreateCheckPoint began: the same second, or a later one when the checkpoint took longer or
        // crossed a second boundary (bounded at a minute: this test's checkpoints take well under one)
        assertThat(c.time()).isBetween(cp.time(), cp.time() + 60);

        // unchanged -> byte-identical, including the recomputed CRC
        assertThat(c.toBytes()).isEqualTo(raw);
        // the checkpoint copy re-encodes to the same 88 bytes
        byte[] copy = java.util.Arrays.copyOfRange(raw, ControlFileDataDescriptor.CHECKPOINT_COPY_OFFSET,
                ControlFileDataDescriptor.CHECKPOINT_COPY_OFFSET + CheckPoint.SIZE);
        assertThat(cp.encode()).isEqualTo(copy);
    }

    static Map<String, String> controldata(String out) {
        Map<String, String> m = new HashMap<>();
        for (String line : out.split("\n")) {
            int colon = line.indexOf(':');
            if (colon > 0) {
                m.put(line.substring(0, colon).trim(), line.substring(colon + 1).trim());
            }
        }
        return m;
    }
}
