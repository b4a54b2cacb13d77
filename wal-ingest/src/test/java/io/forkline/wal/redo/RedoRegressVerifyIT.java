package io.forkline.wal.redo;

import io.forkline.compute.postgres.PostgresInstallation;
import io.forkline.storage.lsn.Lsn;
import io.forkline.wal.testing.TestCluster;
import org.junit.jupiter.api.Test;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Breadth check of native redo: PostgreSQL 15's own regression suite ({@code src/test/regress},
 * {@code parallel_schedule}, run by the installed {@code pg_regress} against a cluster with
 * {@code wal_consistency_checking=all}, data checksums and autovacuum on), then its WAL decoded and
 * ingested in verify mode: every block Java redoes is compared with PostgreSQL's post-image; a
 * mismatch fails ingest with LSN, record, block and offset and writes a fixture.
 *
 * <p>The regression sources come from the PostgreSQL 15 source tree of the installed version
 * ({@link #regressDir}: downloaded once from Debian's archive, or given). Regression test failures themselves do not matter here
 * (the library {@code regress.so} is not packaged, so a few tests differ from their expected output):
 * what is checked is the WAL they produce.
 */
class RedoRegressVerifyIT {

    @Test
    void theRegressionSuitesWalIsRedoneExactly() throws Exception {
        Path regress = regressDir();
        long before = RedoVerifier.totalRecordsVerified();
        Map<String, Long> typesBefore = RedoVerifier.recordsVerified();
        try (TestCluster cluster = TestCluster.create("RedoRegressVerifyIT")) {
            cluster.initdb("-k");
            String control = cluster.pg().run(Duration.ofSeconds(30), "pg_controldata", "-D",
                    cluster.data().toString());
            Matcher m = Pattern.compile("Latest checkpoint location:\\s+([0-9A-F]+/[0-9A-F]+)").matcher(control);
            assertThat(m.find()).as(control).isTrue();
            long startLsn = Lsn.parse(m.group(1));
            cluster.start("wal_consistency_checking=all", "wal_compression=lz4", "wal_level=replica",
                    "fsync=off", "max_wal_size=8GB", "wal_keep_size=8GB", "checkpoint_timeout=3600",
                    "max_prepared_transactions=10", "autovacuum_naptime=1");
            Path out = cluster.dir().resolve("regress-out");
            Files.createDirectories(out);
            // the server (user postgres when the tests run as root) writes COPY ... TO files there
            Files.setPosixFilePermissions(out, java.nio.file.attribute.PosixFilePermissions.fromString("rwxrwxrwx"));
            List<String> cmd = new ArrayList<>(List.of(cluster.pg().binDir().getParent()
                    .resolve("lib/pgxs/src/test/regress/pg_regress").toString(),
                    "--host", "127.0.0.1", "--port", Integer.toString(cluster.port()), "--user",
                    "postgres", "--inputdir", regress.toString(), "--outputdir", out.toString(),
                    "--bindir", cluster.pg().binDir().toString(), "--dlpath", regress.toString(),
                    "--schedule", regress.resolve("parallel_schedule").toString(), "--max-connections", "4"));
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectOutput(out.resolve("pg_regress.log").toFile()).start();
            assertThat(p.waitFor(30, TimeUnit.MINUTES)).as("pg_regress finished within 30 minutes").isTrue();
            String log = Files.readString(out.resolve("pg_regress.log"));
            long ok = log.lines().filter(l -> l.matches(".*\\.\\.\\. ok.*|^ok .*")).count();
            System.out.printf("RedoRegressVerifyIT: pg_regress exit %d, %d tests ok (see %s)%n", p.exitValue(), ok,
                    out.resolve("pg_regress.log"));
            assertThat(ok).as("regression tests that ran as expected").isGreaterThan(100);
            cluster.stop();
            long records = RedoVerifyIT.ingest(cluster, startLsn, true);
            long verified = RedoVerifier.totalRecordsVerified() - before;
            Map<String, Long> types = new TreeMap<>(RedoVerifier.recordsVerified());
            typesBefore.forEach((k, v) -> types.merge(k, -v, Long::sum));
            types.values().removeIf(v -> v == 0);
            System.out.printf("RedoRegressVerifyIT: %d records decoded, %d verified: %s%n", records, verified, types);
            assertThat(verified).isGreaterThan(100_000);
        }
    }

    /**
     * {@code -Dforkline.regress.dir} / {@code FORKLINE_PG_REGRESS_DIR} when given; otherwise
     * {@code src/test/regress} of the installed PostgreSQL's version, downloaded once from Debian's archive
     * ({@code postgresql-15_<version>.orig.tar.bz2}, the upstream tarball) into
     * {@code ~/.cache/forkline/pg-regress-<version>}, readable by the server's user.
     */
    private static Path regressDir() throws Exception {
        String dir = System.getProperty("forkline.regress.dir", System.getenv("FORKLINE_PG_REGRESS_DIR"));
        Path p = dir != null && !dir.isBlank() ? Path.of(dir) : downloadRegressSources();
        assertThat(p.resolve("parallel_schedule")).as("regression schedule in %s", p).isRegularFile();
        return p;
    }

    private static Path downloadRegressSources() throws Exception {
        String version = PostgresInstallation.detect().run(Duration.ofSeconds(30), "postgres", "--version");
        Matcher v = Pattern.compile("\\) (15\\.\\d+)").matcher(version);
        assertThat(v.find()).as("PostgreSQL 15 version in %s", version).isTrue();
        Path target = Path.of(System.getProperty("user.home"), ".cache", "forkline", "pg-regress-" + v.group(1));
        if (Files.isRegularFile(target.resolve("parallel_schedule"))) {
            return target;
        }
        Path tmp = Files.createTempDirectory("pg-regress");
        // The installed minor release first; Debian's pool drops old ones, so then the nearest other 15.x
        // (the regression SQL of any 15.x produces the same kinds of WAL records).
        int minor = Integer.parseInt(v.group(1).substring(3));
        List<Integer> minors = new ArrayList<>(List.of(minor));
        for (int d = 1; d <= 15; d++) {
            minors.add(minor + d);
            if (minor - d >= 0) {
                minors.add(minor - d);
            }
        }
        String name = null;
        String tried = "";
        for (int m : minors) {
            String candidate = "postgresql-15_15." + m + ".orig.tar.bz2";
            for (String pool : List.of("https://deb.debian.org/debian/pool/main/p/postgresql-15/",
                    "https://deb.debian.org/debian-security/pool/updates/main/p/postgresql-15/")) {
                Process curl = new ProcessBuilder("curl", "-fsSL", "--retry", "2", "-o",
                        tmp.resolve(candidate).toString(), pool + candidate).redirectErrorStream(true).start();
                String out = new String(curl.getInputStream().readAllBytes());
                if (curl.waitFor() == 0) {
                    name = candidate;
                    break;
                }
                tried += pool + candidate + ": " + out.trim() + "; ";
            }
            if (name != null) {
                break;
            }
        }
        assertThat(name).as("PostgreSQL 15 sources from Debian's archive (tried: %s)", tried).isNotNull();
        String top = "postgresql-" + name.substring("postgresql-15_".length(), name.indexOf(".orig"));
        Process tar = new ProcessBuilder("tar", "-xjf", tmp.resolve(name).toString(), "-C", tmp.toString(),
                top + "/src/test/regress").redirectErrorStream(true).start();
        String out = new String(tar.getInputStream().readAllBytes());
        assertThat(tar.waitFor()).as("tar: %s", out).isZero();
        Files.createDirectories(target.getParent());
        Process cp = new ProcessBuilder("sh", "-c", "rm -rf \"$2\" && cp -r \"$1\" \"$2\" && chmod -R a+rX \"$2\""
                + " && rm -rf \"$3\"", "sh", tmp.resolve(top + "/src/test/regress").toString(),
                target.toString(), tmp.toString()).redirectErrorStream(true).start();
        out = new String(cp.getInputStream().readAllBytes());
        assertThat(cp.waitFor()).as("copying the regression sources: %s", out).isZero();
        return target;
    }
}
