package io.forkline.pageserver.backup;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.forkline.compute.postgres.PostgresInstallation;
import io.forkline.pageserver.basebackup.PgTestCluster;
import io.forkline.pageserver.tenant.BranchInfo;
import io.forkline.pageserver.tenant.TenantService;
import io.forkline.pageserver.testing.Sql;
import io.forkline.pageserver.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Backups against real PostgreSQL 15: a backup taken before a data change restores as a branch
 * holding the old data; its export is a plain base backup that stock {@code postgres} starts
 * without Forkline; and importing that tar gives a tenant whose {@code main} holds the same data.
 */
class BackupRestoreIT {
    private static final String CHECK = "SELECT count(*) || ':' || sum(id) || ':' || md5(string_agg(v, ',' ORDER BY id)) FROM items";
    private static final ObjectMapper json = new ObjectMapper();
    private static TestServer server;
    private static TenantService tenants;
    private static BackupService backups;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start("backup-restore");
        tenants = server.tenants();
        backups = server.backups();
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void restoreExportAndImportHoldTheDataOfTheBackup() throws Exception {
        tenants.createTenant("shop");
        String main = tenants.startEndpoint("shop", "main");
        Sql.exec(main, "postgres", "CREATE TABLE items (id int PRIMARY KEY, v text NOT NULL)",
                "INSERT INTO items SELECT g, md5(g::text) FROM generate_series(1, 1000) g");
        String atBackup = Sql.queryString(main, "postgres", CHECK);
        BackupInfo b = backups.createBackup("shop", "main", "before cleanup");
        assertThat(b.status()).isEqualTo(BackupInfo.COMPLETED);

        Sql.exec(main, "postgres", "DELETE FROM items WHERE id <= 100", "UPDATE items SET v = 'changed' WHERE id % 7 = 0",
                "INSERT INTO items SELECT g, 'late' FROM generate_series(1001, 1500) g");
        String changed = Sql.queryString(main, "postgres", CHECK);
        assertThat(changed).isNotEqualTo(atBackup);
        BackupInfo later = backups.createBackup("shop", "main", null);
        assertThat(later.sizeBytes()).isGreaterThanOrEqualTo(b.sizeBytes());
        assertThat(backups.listBackups("shop", "main")).extracting(BackupInfo::id).containsExactly(b.id(), later.id());

        // restore: a new branch at the backup's (timeline, LSN); the source is untouched
        BranchInfo restored = backups.restore("shop", b.id(), "before-cleanup");
        assertThat(restored.ancestorLsn()).isEqualTo(b.lsn());
        String r = tenants.startEndpoint("shop", "before-cleanup");
        assertThat(Sql.queryString(r, "postgres", CHECK)).isEqualTo(atBackup);
        tenants.stopEndpoint("shop", "before-cleanup");
        assertThat(Sql.queryString(main, "postgres", CHECK)).isEqualTo(changed);
        tenants.stopEndpoint("shop", "main");

        // export over HTTP: a plain base backup tar
        Path tar = server.dir().resolve("export.tar");
        HttpResponse<Path> resp = server.download("/v1/tenants/shop/backups/" + b.id() + "/export", tar);
        assertThat(resp.statusCode()).isEqualTo(200);
        assertThat(resp.headers().firstValue("Content-Type")).hasValue("application/x-tar");
        assertThat(Files.size(tar)).isGreaterThan(16L << 20); // the WAL segment alone is 16 MiB

        // stock PostgreSQL 15 starts from it with GNU tar's extraction, no Forkline involved
        PgTestCluster pgc = new PgTestCluster("backup-export");
        try {
            Path data = pgc.root.resolve("data");
            Files.createDirectories(data);
            PostgresInstallation.runCommand(Duration.ofMinutes(1), List.of("tar", "-xf", tar.toString(), "-C", data.toString()));
            pgc.pg.prepareDirectory(data);
            // an export leaves Forkline's machine: no trust, a password on TCP
            String hba = Files.readString(data.resolve("pg_hba.conf"));
            assertThat(hba).contains("scram-sha-256").doesNotContainPattern("(?m)^[^#\\n]*\\btrust\\b");
            Process single = new ProcessBuilder(pgc.pg.command("postgres", "--single", "-D", data.toString(), "postgres"))
                    .redirectErrorStream(true).start();
            try (var in = single.getOutputStream()) {
                in.write("ALTER USER postgres PASSWORD 'exported-secret'\n".getBytes(java.nio.charset.StandardCharsets.UTF_8));
            }
            String singleOut = new String(single.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            assertThat(single.waitFor()).as("single-user postgres: %s", singleOut).isZero();
            pgc.password = "exported-secret";
            pgc.start(data, pgc.root.resolve("postgres.log"));
            assertThatThrownBy(pgc::connectWithoutPassword).isInstanceOf(java.sql.SQLException.class)
                    .hasMessageContaining("password");
            try (Connection c = pgc.connect(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(CHECK)) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString(1)).isEqualTo(atBackup);
            }
        } finally {
            pgc.close();
        }

        // import the tar as a new tenant (over HTTP, by path): its main holds the same data
        server.post("/v1/tenants/import", json.writeValueAsString(Map.of("name", "shop-copy", "path", tar.toString())))
                .expect(201);
        String copy = tenants.startEndpoint("shop-copy", "main");
        assertThat(Sql.queryString(copy, "postgres", CHECK)).isEqualTo(atBackup);
        Sql.exec(copy, "postgres", "INSERT INTO items VALUES (5000, 'imported tenant writes')");
        assertThat(Sql.queryLong(copy, "postgres", "SELECT count(*) FROM items")).isEqualTo(1001);
        tenants.stopEndpoint("shop-copy", "main");
        assertThat(tenants.listTenants()).extracting(t -> t.name()).contains("shop", "shop-copy");
    }
}
