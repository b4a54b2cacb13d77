package io.forkline.compute.lazy;

import io.forkline.page.protocol.proto.RelTag;
import org.cryptomator.jfuse.api.Errno;
import org.cryptomator.jfuse.api.FileInfo;
import org.cryptomator.jfuse.api.Stat;
import org.cryptomator.jfuse.api.TimeSpec;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.reflect.Proxy;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Relation files listed at mount but not created ({@link PendingFiles}) behave, through
 * {@link LazyFileSystem}'s callbacks (called directly, without a mount), like the sparse files they
 * stand for: listed by readdir and getattr at their exact size; created with that size by the first
 * open, whose reads then fetch their blocks; unlinked without ever being created; renamed; an
 * {@code O_EXCL} create and a rmdir of their directory fail as with a real file.
 */
class PendingFilesTest {
    private static final int BLOCK = LazyFileSystem.BLOCK;
    private static final RelTag REL = RelTag.newBuilder().setSpcOid(1663).setDbOid(5).setRelNumber(1000).setFork(0).build();

    @TempDir
    Path upper;
    private LazyFileSystem fs;
    private PendingFiles pending;
    private final List<Integer> fetched = new ArrayList<>();

    @BeforeEach
    void mount() throws Exception {
        Files.createDirectories(upper.resolve("global"));
        Files.writeString(upper.resolve("global/pg_control"), "control");
        pending = new PendingFiles(upper);
        pending.add("/base/5/1000", 3L * BLOCK);
        pending.add("/base/5/1001", 0);
        pending.add("/base/5/1002", 2L * BLOCK);
        pending.add("/global/1262", BLOCK);
        pending.createDirectories();
        Map<String, LazyRelationFile> lazy = new ConcurrentHashMap<>(Map.of(
                "/base/5/1000", new LazyRelationFile(REL, 0, 3),
                "/base/5/1002", new LazyRelationFile(REL, 0, 2),
                "/global/1262", new LazyRelationFile(REL, 0, 1)));
        BlockSource source = (rel, blocks) -> {
            List<byte[]> out = new ArrayList<>();
            for (int b : blocks) {
                synchronized (fetched) {
                    fetched.add(b);
                }
                byte[] page = new byte[BLOCK];
                Arrays.fill(page, (byte) (b + 1));
                out.add(page);
            }
            return out;
        };
        System.setProperty(LazyFileSystem.READ_AROUND_PROPERTY, "1"); // each read fetches only its own blocks (ReadAheadTest has read-around)
        try {
            fs = new LazyFileSystem(upper, errno(), lazy, source, new LazyStats(), 70, 71, pending);
        } finally {
            System.clearProperty(LazyFileSystem.READ_AROUND_PROPERTY);
        }
    }

    @Test
    void listedFilesShowInDirectoriesAndAttributesWithoutExisting() {
        assertThat(names("/base/5")).containsExactlyInAnyOrder(".", "..", "1000", "1001", "1002");
        assertThat(names("/global")).containsExactlyInAnyOrder(".", "..", "pg_control", "1262");
        Map<String, Object> st = stat("/base/5/1000");
        assertThat(st.get("size")).isEqualTo(3L * BLOCK);
        assertThat((Integer) st.get("mode") & Stat.S_IFMT).isEqualTo(Stat.S_IFREG);
        assertThat(st.get("uid")).isEqualTo(70);
        assertThat(stat("/base/5/1001").get("size")).isEqualTo(0L);
        assertThat(fs.access("/base/5/1002", 0)).isZero();
        assertThat(fs.access("/base/5/9999", 0)).isEqualTo(-2);
        assertThat(Files.exists(upper.resolve("base/5/1000"))).isFalse();
        assertThat(pending.count()).isEqualTo(4);
    }

    @Test
    void theFirstOpenCreatesTheSparseFileAndItsReadsFetch() throws Exception {
        TestFileInfo fi = new TestFileInfo(Set.of(StandardOpenOption.READ, StandardOpenOption.WRITE));
        assertThat(fs.open("/base/5/1000", fi)).isZero();
        assertThat(Files.size(upper.resolve("base/5/1000"))).isEqualTo(3L * BLOCK);
        assertThat(pending.size("/base/5/1000")).isNull();
        ByteBuffer buf = ByteBuffer.allocate(BLOCK);
        assertThat(fs.read("/base/5/1000", buf, BLOCK, 2L * BLOCK, fi)).isEqualTo(BLOCK);
        assertThat(buf.get(0)).isEqualTo((byte) 3);
        assertThat(fetched).containsExactly(2);
        // listed once, not twice, now that it exists
        assertThat(names("/base/5")).containsExactlyInAnyOrder(".", "..", "1000", "1001", "1002");
        assertThat(stat("/base/5/1000").get("size")).isEqualTo(3L * BLOCK);
        assertThat(fs.release("/base/5/1000", fi)).isZero();
    }

    @Test
    void unlinkRenameExclusiveCreateAndRmdirActAsOnRealFiles() throws Exception {
        // unlinked: gone without ever being created, and its blocks are never fetched
        assertThat(fs.unlink("/base/5/1002")).isZero();
        assertThat(fs.access("/base/5/1002", 0)).isEqualTo(-2);
        assertThat(names("/base/5")).doesNotContain("1002");
        // an exclusive create of a listed file fails
        TestFileInfo excl = new TestFileInfo(Set.of(StandardOpenOption.READ, StandardOpenOption.WRITE, StandardOpenOption.CREATE_NEW));
        assertThat(fs.create("/base/5/1001", 0600, excl)).isEqualTo(-17);
        // renamed over another listed file: the target's listing goes, the source moves with its size
        assertThat(fs.rename("/global/1262", "/base/5/1001", 0)).isZero();
        assertThat(Files.size(upper.resolve("base/5/1001"))).isEqualTo(BLOCK);
        assertThat(names("/global")).containsExactlyInAnyOrder(".", "..", "pg_control");
        // a directory still holding listed files is not empty
        assertThat(fs.rmdir("/base/5")).isEqualTo(-39);
        assertThat(fs.unlink("/base/5/1000")).isZero();
        assertThat(fs.unlink("/base/5/1001")).isZero();
        assertThat(fs.rmdir("/base/5")).isZero();
        assertThat(fetched).isEmpty();
    }

    private List<String> names(String dir) {
        List<String> out = new ArrayList<>();
        assertThat(fs.readdir(dir, (name, stat, offset, flags) -> {
            out.add(name);
            return 0;
        }, 0, null, 0)).isZero();
        return out;
    }

    /** getattr's answers by setter name ({@code size}, {@code mode}, {@code uid}). */
    private Map<String, Object> stat(String path) {
        Map<String, Object> got = new HashMap<>();
        TimeSpec time = (TimeSpec) Proxy.newProxyInstance(TimeSpec.class.getClassLoader(), new Class<?>[]{TimeSpec.class},
                (p, m, a) -> null);
        Stat stat = (Stat) Proxy.newProxyInstance(Stat.class.getClassLoader(), new Class<?>[]{Stat.class}, (p, m, a) -> {
            if (m.getName().startsWith("set") && a != null && a.length == 1) {
                got.put(m.getName().substring(3).toLowerCase(), a[0]);
            }
            return m.getName().endsWith("Time") ? time : null;
        });
        assertThat(fs.getattr(path, stat, null)).isZero();
        return got;
    }


    private static Errno errno() {
        return TestErrno.linux();
    }
}
