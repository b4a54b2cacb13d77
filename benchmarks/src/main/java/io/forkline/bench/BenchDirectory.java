package io.forkline.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * Where a benchmark run keeps its data: {@code <base>/<name>-<nanoTime>}, absolute, so the
 * {@code postgres} user can traverse it ({@code PostgresInstallation.prepareDirectory} fixes
 * permissions). Default base: {@code benchmarks/target/bench} when run from the repository root,
 * else {@code target/bench}.
 */
public final class BenchDirectory {
    private BenchDirectory() {
    }

    /** A fresh, not yet existing directory for one run named {@code name}. */
    public static Path fresh(String base, String name) {
        Path b = base != null ? Path.of(base)
                : Files.isDirectory(Path.of("benchmarks")) ? Path.of("benchmarks", "target", "bench") : Path.of("target", "bench");
        return b.resolve(name + "-" + System.nanoTime()).toAbsolutePath();
    }

    /** Total size of the regular files under {@code dir}, bytes (0 when it does not exist). */
    public static long sizeBytes(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return 0;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            long total = 0;
            for (Path p : (Iterable<Path>) s::iterator) {
                if (Files.isRegularFile(p)) {
                    total += Files.size(p);
                }
            }
            return total;
        }
    }

    /** Deletes {@code dir} and everything under it; no-op when it does not exist. */
    public static void delete(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) s.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        }
    }
}
