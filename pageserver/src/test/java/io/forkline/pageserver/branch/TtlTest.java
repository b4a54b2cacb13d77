package io.forkline.pageserver.branch;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.forkline.pageserver.api.ApiException;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** TTL parsing and tenant config updates: accepted forms, and refusals that name the value. */
class TtlTest {
    @Test
    void parsesMinutesHoursDaysUpToThirtyDays() {
        assertThat(Ttl.parse("30m")).isEqualTo(Duration.ofMinutes(30));
        assertThat(Ttl.parse("4h")).isEqualTo(Duration.ofHours(4));
        assertThat(Ttl.parse(" 7d ")).isEqualTo(Duration.ofDays(7));
        assertThat(Ttl.parse("30d")).isEqualTo(Duration.ofDays(30));
        assertThat(Ttl.parse("720h")).isEqualTo(Duration.ofDays(30));
        assertThat(Ttl.parse("0")).isNull();
        assertThat(Ttl.parse("0h")).isNull();
        assertThat(Ttl.parse(null)).isNull();
        assertThat(Ttl.parse("")).isNull();
    }

    @Test
    void refusesOtherFormsNamingTheValue() {
        for (String bad : new String[]{"31d", "721h", "43201m"}) {
            assertThatThrownBy(() -> Ttl.parse(bad)).isInstanceOf(ApiException.class)
                    .hasMessageContaining("'" + bad + "'").hasMessageContaining("30 days");
        }
        for (String bad : new String[]{"4x", "-1h", "h", "1.5h", "4 h", "P1D"}) {
            assertThatThrownBy(() -> Ttl.parse(bad)).isInstanceOf(ApiException.class)
                    .hasMessageContaining("'" + bad + "'").hasMessageContaining("30m, 4h, 7d");
        }
    }

    @Test
    void tenantConfigUpdatesValidateKeysAndValues() throws Exception {
        ObjectMapper json = new ObjectMapper();
        TenantConfig c = TenantConfig.EMPTY.with(json.readTree("{\"max_branches\":7,\"max_running_endpoints\":\"2\"}"));
        assertThat(c).isEqualTo(new TenantConfig(7, 2));
        assertThat(Quotas.DEFAULT.apply(c)).isEqualTo(new Quotas(7, 2));
        assertThat(Quotas.DEFAULT.apply(c.with(json.readTree("{\"max_branches\":null}")))).isEqualTo(new Quotas(50, 2));
        assertThatThrownBy(() -> c.with(json.readTree("{\"pitr\":1}"))).isInstanceOf(ApiException.class)
                .hasMessageContaining("'pitr'").hasMessageContaining("max_branches");
        assertThatThrownBy(() -> c.with(json.readTree("{\"max_branches\":0}"))).hasMessageContaining("max_branches 0");
        assertThatThrownBy(() -> c.with(json.readTree("{\"max_running_endpoints\":\"many\"}"))).hasMessageContaining("\"many\"");
        assertThat(json.readValue("{\"max_branches\":3,\"gc_horizon\":\"1GB\"}", TenantConfig.class))
                .as("a record written by a newer server still loads").isEqualTo(new TenantConfig(3, null));
    }
}
