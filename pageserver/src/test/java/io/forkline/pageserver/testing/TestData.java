package io.forkline.pageserver.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * Where integration tests keep their data, and when it goes away. A test's directory is
 * {@code target/it/<name>-<nanoTime>} under the module (absolute; the {@code postgres} user can
 * traverse it once {@code PostgresInstallation.prepareDirectory} fixed its permissions). Tests
 * delete it when they are done ({@link #deleteUnlessKept}); run with
 * {@code -Dforkline.keepTestData=true} to keep every test's data for debugging (a failed run's data
 * directories, compute logs and RocksDB files).
 */
public final class TestData {
    /** System property: {@code true} keeps every test data directory ({@value}). */
    public static final String KEEP_PROPERTY = "forkline.keepTestData";

    private TestData() {
    }

    /**
     * System property that points the client token files ({@code <config-home>/tokens/<host>_<port>},
     * see {@code io.forkline.pageserver.auth.ClientTokenFiles}) away from the user's real
     * {@code ~/.config/forkline} ({@value}).
     */
    public static final String CONFIG_HOME_PROPERTY = io.forkline.pageserver.auth.ClientTokenFiles.CONFIG_HOME_PROPERTY;

    /**
     * The config home of this test JVM: {@value #CONFIG_HOME_PROPERTY} when set, else it sets it to
     * {@code target/config-home} (absolute) first, so servers and in-process CLI runs of the tests
     * write and read their token files there, never in {@code ~/.config}. A developer's
     * {@code FORKLINE_CONFIG_HOME} environment variable still wins (it is explicit).
     */
    public static synchronized Path configHome() {
        String v = System.getProperty(CONFIG_HOME_PROPERTY);
        if (v == null || v.isBlank()) {
            v = Path.of("target", "config-home").toAbsolutePath().toString();
            System.setProperty(CONFIG_HOME_PROPERTY, v);
        }
        return Path.of(v);
    }

    /** Whether test data is kept: {@link #KEEP_PROPERTY} is {@code true} (case-insensitive). */
    public static boolean keep() {
        return Boolean.getBoolean(KEEP_PROPERTY);
    }

    /**
     * A fresh, not yet created directory {@code target/it/<name>-<nanoTime>}, absolute.
     *
     * @param name the directory's prefix, e.g. the test's name in kebab case
     */
    public static Path newDirectory(String name) {
        return Path.of("target", "it", name + "-" + System.nanoTime()).toAbsolutePath();
    }

    /**
     * Deletes {@code dir} and everything under it, unless {@link #keep()}; no-op when it does not
     * exist. Symbolic links are deleted, not followed.
     *
     * @throws UncheckedIOException when a file cannot be deleted (names the directory)
     */
    public static void deleteUnlessKept(Path dir) {
        if (!keep()) {
            delete(dir);
        }
    }

    /**
     * Deletes {@code dir} and everything under it, whatever {@link #keep()} says; no-op when it does
     * not exist.
     *
     * @throws UncheckedIOException when a file cannot be deleted (names the directory)
     */
    public static void delete(Path dir) {
        if (!Files.exists(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try {
            // a lazy compute of a killed server leaves its postmaster and a dead FUSE mount behind
            io.forkline.compute.endpoint.ComputeProcess.killPostmastersUnder(dir);
            io.forkline.compute.lazy.LazyDataDirectory.unmountStaleUnder(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot unmount what is mounted under test data " + dir, e);
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) s.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete test data " + dir, e);
        }
    }
}
