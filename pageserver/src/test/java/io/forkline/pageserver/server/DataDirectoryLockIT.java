package io.forkline.pageserver.server;

import io.forkline.pageserver.testing.TestServer;
import org.junit.jupiter.api.Test;

import java.time.Clock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A second server on a data directory in use is refused with a message naming the holder's PID; the first keeps serving. */
class DataDirectoryLockIT {
    @Test
    void aSecondServerOnTheSameDataDirectoryIsRefusedNamingThePid() throws Exception {
        try (TestServer first = TestServer.start("second-server")) {
            assertThatThrownBy(() -> PageServer.start(first.dir(), 0, Clock.systemUTC()))
                    .isInstanceOf(DataDirectoryLock.InUseException.class)
                    .hasMessage("data directory " + first.dir() + " is in use by another forkline server (PID "
                            + ProcessHandle.current().pid() + "); stop it first or use another --data-dir");
            assertThat(first.get("/v1/status").ok().path("status").asText()).isEqualTo("ok");
        }
    }

    @Test
    void anotherProcessHoldingTheDirectoryIsNamedByItsPid() throws Exception {
        java.nio.file.Path dir = io.forkline.pageserver.testing.TestData.newDirectory("locked-elsewhere");
        try {
            java.nio.file.Files.createDirectories(dir);
            // another process holds a POSIX lock (what FileChannel.tryLock takes) on the file, as a running server does
            java.nio.file.Files.writeString(dir.resolve(DataDirectoryLock.FILE), "4242\n");
            Process holder = new ProcessBuilder("python3", "-c", "import fcntl, sys, time\n"
                    + "f = open(sys.argv[1], 'r+')\nfcntl.lockf(f, fcntl.LOCK_EX)\nprint('locked', flush=True)\ntime.sleep(30)",
                    dir.resolve(DataDirectoryLock.FILE).toString()).start();
            try {
                assertThat(new java.io.BufferedReader(new java.io.InputStreamReader(holder.getInputStream())).readLine())
                        .isEqualTo("locked");
                assertThatThrownBy(() -> DataDirectoryLock.acquire(dir)).isInstanceOf(DataDirectoryLock.InUseException.class)
                        .hasMessageContaining("(PID 4242)");
            } finally {
                holder.destroy();
                holder.waitFor();
            }
            try (DataDirectoryLock lock = DataDirectoryLock.acquire(dir)) {
                assertThat(java.nio.file.Files.readString(dir.resolve(DataDirectoryLock.FILE)).strip())
                        .isEqualTo(Long.toString(ProcessHandle.current().pid()));
            }
        } finally {
            io.forkline.pageserver.testing.TestData.deleteUnlessKept(dir);
        }
    }
}
