package io.forkline.compute.endpoint;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The documented size table reaches postgresql.conf. */
class ComputeSizeTest {
    @Test
    void sizesMapToTheDocumentedSettings() {
        assertSettings(ComputeSize.XS, "64MB", "20", "4MB");
        assertSettings(ComputeSize.S, "128MB", "100", "4MB");
        assertSettings(ComputeSize.M, "512MB", "200", "8MB");
        assertSettings(ComputeSize.L, "2GB", "400", "16MB");
        assertThat(ComputeSettings.forPort(5432)).isEqualTo(ComputeSettings.forPort(5432, ComputeSize.S));
    }

    private static void assertSettings(ComputeSize size, String sharedBuffers, String maxConnections, String workMem) {
        Map<String, String> s = ComputeSettings.forPort(5432, size);
        assertThat(s).containsEntry("shared_buffers", sharedBuffers).containsEntry("max_connections", maxConnections)
                .containsEntry("work_mem", workMem);
    }

    @Test
    void parsesApiNamesAndNamesTheBadValue() {
        assertThat(ComputeSize.parse("xs")).isEqualTo(ComputeSize.XS);
        assertThat(ComputeSize.parse("L")).isEqualTo(ComputeSize.L);
        assertThat(ComputeSize.XS.apiName()).isEqualTo("xs");
        assertThatThrownBy(() -> ComputeSize.parse("xl")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'xl'").hasMessageContaining("xs, s, m, l");
        assertThatThrownBy(() -> ComputeSize.parse(null)).hasMessageContaining("'null'");
    }
}
