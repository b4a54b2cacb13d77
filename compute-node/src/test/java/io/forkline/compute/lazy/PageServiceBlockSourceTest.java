package io.forkline.compute.lazy;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The system properties that choose how lazy reads reach the page service (the fetches themselves: LazyComputeIT, LazyOutageIT). */
class PageServiceBlockSourceTest {
    @AfterEach
    void clear() {
        System.clearProperty(PageServiceBlockSource.BLOCKING_PROPERTY);
        System.clearProperty(PageServiceBlockSource.MAX_BLOCKING_PROPERTY);
    }

    @Test
    void synchronousConnectionsByDefaultOffWithTheSwitchAndBadValuesNamed() {
        assertThat(PageServiceBlockSource.maxBlockingFromProperties()).isEqualTo(PageServiceBlockSource.DEFAULT_MAX_BLOCKING);
        System.setProperty(PageServiceBlockSource.MAX_BLOCKING_PROPERTY, " 3 ");
        assertThat(PageServiceBlockSource.maxBlockingFromProperties()).isEqualTo(3);
        System.setProperty(PageServiceBlockSource.BLOCKING_PROPERTY, "false");
        assertThat(PageServiceBlockSource.maxBlockingFromProperties()).isZero();
        System.setProperty(PageServiceBlockSource.BLOCKING_PROPERTY, "TRUE");
        assertThat(PageServiceBlockSource.maxBlockingFromProperties()).isEqualTo(3);
        System.setProperty(PageServiceBlockSource.BLOCKING_PROPERTY, "maybe");
        assertThatThrownBy(PageServiceBlockSource::maxBlockingFromProperties)
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'maybe'");
        System.setProperty(PageServiceBlockSource.BLOCKING_PROPERTY, "true");
        System.setProperty(PageServiceBlockSource.MAX_BLOCKING_PROPERTY, "-1");
        assertThatThrownBy(PageServiceBlockSource::maxBlockingFromProperties)
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'-1'");
        System.setProperty(PageServiceBlockSource.MAX_BLOCKING_PROPERTY, "many");
        assertThatThrownBy(PageServiceBlockSource::maxBlockingFromProperties)
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'many'");
    }
}
