package io.forkline.pageserver.backup;

import io.forkline.page.client.TarExtractor;
import io.forkline.page.client.TarFormatException;
import io.forkline.compute.postgres.PostgresInstallation;
import io.forkline.page.client.TarExtractor;
import io.forkline.page.client.TarFormatException;
import io.forkline.pageserver.basebackup.TarSink;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TarExtractorTest {
    private static final String LONG = "base/16384/" + "d".repeat(60) + "/" + "f".repeat(80);

    @TempDir
    Path dir;

    private static byte[] sinkTar(boolean finish) throws IOException {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        TarSink sink = new TarSink(bos, Clock.systemUTC());
        sink.directory("global");
        try (OutputStream o = sink.file("global/pg_control", 8192)) {
            byte[] b = new byte[8192];
            Arrays.fill(b, (byte) 7);
            o.write(b);
        }
        try (OutputStream o = sink.file("PG_VERSION", 3)) {
            o.write("15\n".getBytes(StandardCharsets.US_ASCII));
        }
        try (OutputStream o = sink.file(LONG, 5)) {
            o.write("hello".getBytes(StandardCharsets.US_ASCII));
        }
        if (finish) {
            sink.close();
        }
        return bos.toByteArray();
    }

    @Test
    void extractsWhatTarSinkWritesIncludingPrefixedNames() throws IOException {
        Path tar = dir.resolve("a.tar");
        Files.write(tar, sinkTar(true));
        assertThat(TarExtractor.verify(tar)).isEqualTo(new TarExtractor.Result(3, 8192 + 3 + 5));
        TarExtractor.Result r = TarExtractor.extract(tar, dir.resolve("out"));
        assertThat(r.files()).isEqualTo(3);
        assertThat(r.bytes()).isEqualTo(8192 + 3 + 5);
        assertThat(Files.readString(dir.resolve("out/PG_VERSION"))).isEqualTo("15\n");
        assertThat(Files.readAllBytes(dir.resolve("out/global/pg_control"))).hasSize(8192).containsOnly(7);
        assertThat(Files.readString(dir.resolve("out").resolve(LONG))).isEqualTo("hello");
    }

    @Test
    void aTarWithoutEndOfArchiveIsTruncated() throws IOException {
        Path tar = dir.resolve("t.tar");
        Files.write(tar, sinkTar(false));
        assertThatThrownBy(() -> TarExtractor.extract(tar, dir.resolve("out"))).isInstanceOf(TarFormatException.class)
                .hasMessageContaining("truncated");
        assertThatThrownBy(() -> TarExtractor.verify(tar)).isInstanceOf(TarFormatException.class)
                .hasMessageContaining("truncated");
        byte[] full = sinkTar(true);
        Files.write(tar, Arrays.copyOf(full, 512 + 512 + 4000));
        assertThatThrownBy(() -> TarExtractor.extract(tar, dir.resolve("out2"))).isInstanceOf(TarFormatException.class)
                .hasMessageContaining("global/pg_control");
    }

    @Test
    void refusesEscapingNamesAndGarbage() throws IOException {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        TarSink sink = new TarSink(bos, Clock.systemUTC());
        try (OutputStream o = sink.file("../evil", 1)) {
            o.write('x');
        }
        sink.close();
        Path tar = dir.resolve("e.tar");
        Files.write(tar, bos.toByteArray());
        assertThatThrownBy(() -> TarExtractor.extract(tar, dir.resolve("out"))).isInstanceOf(TarFormatException.class)
                .hasMessageContaining("'../evil'");
        assertThat(dir.resolve("evil")).doesNotExist();

        Files.write(tar, "not a tar at all".repeat(64).getBytes(StandardCharsets.US_ASCII));
        assertThatThrownBy(() -> TarExtractor.extract(tar, dir.resolve("out"))).isInstanceOf(TarFormatException.class)
                .hasMessageContaining("byte 0");
    }

    @Test
    void readsGnuAndPaxLongNamesAsGnuTarWritesThem() throws IOException {
        Path src = dir.resolve("src");
        Files.createDirectories(src.resolve(LONG).getParent());
        Files.writeString(src.resolve(LONG), "long one");
        for (String format : List.of("gnu", "pax")) {
            Path tar = dir.resolve(format + ".tar");
            PostgresInstallation.runCommand(Duration.ofSeconds(30),
                    List.of("tar", "--format=" + format, "-cf", tar.toString(), "-C", src.toString(), "."));
            Path out = dir.resolve("out-" + format);
            TarExtractor.extract(tar, out);
            assertThat(Files.readString(out.resolve(LONG))).as(format).isEqualTo("long one");
        }
    }
}
