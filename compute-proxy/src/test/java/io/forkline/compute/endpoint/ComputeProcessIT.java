package io.forkline.compute.endpoint;

import static org.assertj.core.api.Assertions.assertThat;

import io.forkline.compute.postgres.PostgresException;
import io.forkline.compute.postgres.PostgresInstallation;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link ComputeProcess#start} against a real PostgreSQL 15 that never becomes ready: a data
 * directory with {@code standby.signal} and no WAL source stays in recovery and only ever logs
 * "ready to accept read-only connections".
 */
class ComputeProcessIT {
    private Path dir;
    private Path data;

    @AfterEach
    void cleanUp() throws Exception {
        if (data != null) {
            ComputeProcess.killPostmaster(data);
        }
        if (dir != null && Files.exists(dir)) {
            try (var paths = Files.walk(dir)) {
                for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    /**
     * The starting thread is interrupted while it waits for readiness: start throws, the thread's
     * interrupt flag stays set, and no postgres is left running on the directory or the port.
     */
    @Test
    void interruptedStartLeavesNoPostgresRunning() throws Exception {
        PostgresInstallation pg = PostgresInstallation.detect();
        dir = Path.of("target", "it", "ComputeProcessIT-" + UUID.randomUUID().toString().substring(0, 8))
                .toAbsolutePath();
        pg.prepareDirectory(dir);
        data = dir.resolve("data");
        pg.run(Duration.ofSeconds(120), "initdb", "-D", data.toString(), "-U", "postgres", "--no-sync");
        Files.createFile(data.resolve("standby.signal"));
        int port = ComputeProcess.freePort();

        AtomicReference<Throwable> failure = new AtomicReference<>();
        AtomicReference<ComputeProcess> started = new AtomicReference<>();
        AtomicBoolean stillInterrupted = new AtomicBoolean();
        Thread starter = new Thread(() -> {
            try {
                started.set(ComputeProcess.start(pg, data, port, Duration.ofSeconds(60)));
            } catch (Throwable t) {
                failure.set(t);
                stillInterrupted.set(Thread.currentThread().isInterrupted());
            }
        }, "compute-starter");
        starter.start();

        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        Optional<Long> pid = Optional.empty();
        while (System.nanoTime() < deadline && failure.get() == null) {
            pid = ComputeProcess.postmasterPid(data);
            if (pid.isPresent() && ProcessHandle.of(pid.get()).map(ProcessHandle::isAlive).orElse(false)
                    && !ComputeProcess.isPortFree(port)) {
                break;
            }
            Thread.sleep(20);
        }
        assertThat(failure.get()).as("start fails only when interrupted").isNull();
        assertThat(pid).as("postmaster running on %s", data).isPresent();
        long postmaster = pid.get();

        starter.interrupt();
        starter.join(Duration.ofSeconds(30).toMillis());
        assertThat(starter.isAlive()).isFalse();
        assertThat(started.get()).as("start never succeeded").isNull();
        assertThat(failure.get()).isInstanceOf(PostgresException.class).hasMessageContaining("interrupted");
        assertThat(stillInterrupted.get()).as("interrupt flag kept").isTrue();
        // SIGKILL is delivered at once, but the dead postmaster lingers until its parent reaps it.
        long goneDeadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (System.nanoTime() < goneDeadline && (isAlive(postmaster) || !ComputeProcess.isPortFree(port))) {
            Thread.sleep(20);
        }
        assertThat(isAlive(postmaster)).as("postmaster %d killed", postmaster).isFalse();
        assertThat(ComputeProcess.isPortFree(port)).as("port %d free again", port).isTrue();
    }

    private static boolean isAlive(long pid) {
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }
}
