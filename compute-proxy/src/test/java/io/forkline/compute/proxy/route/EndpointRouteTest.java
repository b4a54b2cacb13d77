package io.forkline.compute.proxy.route;

import io.forkline.compute.proxy.wire.PgProtocolException;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class EndpointRouteTest {
    @Test
    void serverNameFirstLabelWhenItLooksLikeAnEndpointId() {
        assertThat(EndpointRoute.fromServerName("ep-k3v9q2xd.db.example.com")).contains("ep-k3v9q2xd");
        assertThat(EndpointRoute.fromServerName("EP-1.localhost.")).contains("ep-1");
        assertThat(EndpointRoute.fromServerName("localhost")).isEmpty();
        assertThat(EndpointRoute.fromServerName("127.0.0.1")).isEmpty();
        assertThat(EndpointRoute.fromServerName("::1")).isEmpty();
        assertThat(EndpointRoute.fromServerName("-bad.example.com")).isEmpty();
        assertThat(EndpointRoute.fromServerName("under_score.example.com")).isEmpty();
        assertThat(EndpointRoute.fromServerName(null)).isEmpty();
    }

    @Test
    void optionsLoseTheEndpointWordAndKeepTheRestEscapedAsLibpqDoes() {
        EndpointRoute.Options o = EndpointRoute.Options.parse("-c search_path=a\\ b  endpoint=ep-1 -c work_mem=4MB");
        assertThat(o.endpointId()).isEqualTo("ep-1");
        assertThat(o.forwarded()).isEqualTo("-c search_path=a\\ b -c work_mem=4MB");
        assertThat(EndpointRoute.splitWords(o.forwarded())).containsExactly("-c", "search_path=a b", "-c", "work_mem=4MB");
        assertThat(EndpointRoute.Options.parse("endpoint=ep-1")).isEqualTo(new EndpointRoute.Options("ep-1", null));
        assertThat(EndpointRoute.Options.parse(null)).isEqualTo(new EndpointRoute.Options(null, null));
        assertThat(EndpointRoute.splitWords("a\\\\b")).isEqualTo(List.of("a\\b"));
        assertThat(EndpointRoute.joinWords(List.of("a\\b"))).isEqualTo("a\\\\b");
    }

    @Test
    void optionsNamingTwoEndpointsOrABadIdAreRefused() {
        assertThatThrownBy(() -> EndpointRoute.Options.parse("endpoint=ep-1 endpoint=ep-2"))
                .isInstanceOf(PgProtocolException.class).hasMessageContaining("\"ep-1\" and \"ep-2\"");
        assertThatThrownBy(() -> EndpointRoute.Options.parse("endpoint=Bad_Id"))
                .isInstanceOf(PgProtocolException.class).hasMessageContaining("\"Bad_Id\"");
    }

    @Test
    void passwordsThatRoute() {
        assertThat(EndpointRoute.fromPassword("endpoint=ep-1;se;cret")).contains(new EndpointRoute.PasswordRoute("ep-1", "se;cret"));
        assertThat(EndpointRoute.fromPassword("secret")).isEmpty();
        assertThat(EndpointRoute.fromPassword("endpoint=ep-1")).isEqualTo(Optional.empty());
    }
}
