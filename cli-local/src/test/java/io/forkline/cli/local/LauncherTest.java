package io.forkline.cli.local;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The launcher {@code ./forkline} decides the JDK once and keeps it in its cache directory
 * ({@code FORKLINE_CACHE_DIR}) with the {@code JAVA_HOME} it was decided under, uses the remembered
 * one as it is while that {@code JAVA_HOME} is unchanged, and decides again when the remembered
 * JDK disappears. Run through
 * {@code ./forkline test} with a stand-in {@code mvn} first on the PATH that prints the
 * {@code JAVA_HOME} the launcher gave it, so nothing is built.
 */
class LauncherTest {
    private static final Path LAUNCHER = Path.of("..", "forkline").toAbsolutePath().normalize();
    /** The JDK running this test: the launcher's JAVA_HOME, so the test needs no JDK under /usr/lib/jvm. */
    private static final String JDK = Path.of(System.getProperty("java.home")).toString();

    @Test
    void theJdkIsDecidedOnceAndAgainWhenItDisappears(@TempDir Path tmp) throws Exception {
        Path cache = tmp.resolve("cache");
        Path bin = Files.createDirectories(tmp.resolve("bin"));
        executable(bin.resolve("mvn"), "#!/bin/sh\necho \"JAVA_HOME=$JAVA_HOME\"\n");

        String detected = javaHome(cache, bin);
        assertThat(detected).isEqualTo(JDK);
        assertThat(Files.readString(cache.resolve("jdk"))).contains(detected);

        // a JDK the launcher never finds by itself, written into its cache: used as it is, no detection
        Path fake = tmp.resolve("fake-jdk");
        executable(Files.createDirectories(fake.resolve("bin")).resolve("java"), "#!/bin/sh\nexit 0\n");
        executable(fake.resolve("bin").resolve("javac"), "#!/bin/sh\nexit 0\n");
        Files.writeString(cache.resolve("jdk"), JDK + "\n25 " + fake + "\n");
        assertThat(javaHome(cache, bin)).isEqualTo(fake.toString());

        // that JDK disappears: decided again, and remembered
        try (Stream<Path> s = Files.walk(fake)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
        assertThat(javaHome(cache, bin)).isEqualTo(detected);
        assertThat(Files.readString(cache.resolve("jdk"))).contains(detected).doesNotContain(fake.toString());
    }

    /** Runs {@code ./forkline test} with JAVA_HOME = this JDK and returns the JAVA_HOME the stand-in mvn saw. */
    private static String javaHome(Path cache, Path bin) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(LAUNCHER.toString(), "test").redirectErrorStream(true);
        pb.environment().put("JAVA_HOME", JDK);
        pb.environment().put("FORKLINE_CACHE_DIR", cache.toString());
        pb.environment().put("PATH", bin + ":" + System.getenv("PATH"));
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(2, TimeUnit.MINUTES)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        assertThat(out.strip()).as(out).startsWith("JAVA_HOME=");
        return out.strip().substring("JAVA_HOME=".length());
    }

    private static void executable(Path file, String text) throws IOException {
        Files.writeString(file, text);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
}
