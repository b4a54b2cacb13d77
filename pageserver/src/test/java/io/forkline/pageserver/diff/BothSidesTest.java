package io.forkline.pageserver.diff;

import org.junit.jupiter.api.Test;

import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@link BothSides}: the two sides overlap, results keep their side, failures clean up the other side. */
class BothSidesTest {
    @Test
    void theSidesRunAtTheSameTime() throws Exception {
        // each side waits for the other to have started: run one after the other, this would time out
        CountDownLatch started = new CountDownLatch(2);
        BothSides.Pair<String> p = BothSides.run(() -> meet(started, "a"), () -> meet(started, "b"), null);
        assertThat(p.from()).isEqualTo("a");
        assertThat(p.to()).isEqualTo("b");
    }

    private static String meet(CountDownLatch started, String result) throws InterruptedException {
        started.countDown();
        if (!started.await(10, TimeUnit.SECONDS)) {
            return "alone";
        }
        return result;
    }

    @Test
    void aFailingSideDiscardsTheOthersResultAndIsThrown() {
        List<String> discarded = new ArrayList<>();
        assertThatThrownBy(() -> BothSides.run(() -> "from-compute", () -> {
            throw new SQLException("to side down");
        }, discarded::add)).isInstanceOf(SQLException.class).hasMessage("to side down");
        assertThat(discarded).containsExactly("from-compute");

        discarded.clear();
        assertThatThrownBy(() -> BothSides.run(() -> {
            throw new IllegalArgumentException("unknown ref 'x'");
        }, () -> "to-compute", discarded::add)).isInstanceOf(IllegalArgumentException.class).hasMessage("unknown ref 'x'");
        assertThat(discarded).containsExactly("to-compute");
    }

    @Test
    void whenBothFailTheFromSideIsThrownWithTheOtherSuppressed() {
        List<String> discarded = new ArrayList<>();
        assertThatThrownBy(() -> BothSides.<String>run(() -> {
            throw new IllegalStateException("from failed");
        }, () -> {
            throw new SQLException("to failed");
        }, discarded::add))
                .isInstanceOf(IllegalStateException.class).hasMessage("from failed")
                .satisfies(e -> assertThat(e.getSuppressed()).singleElement()
                        .satisfies(s -> assertThat(s).isInstanceOf(SQLException.class).hasMessage("to failed")));
        assertThat(discarded).isEmpty();
    }
}
