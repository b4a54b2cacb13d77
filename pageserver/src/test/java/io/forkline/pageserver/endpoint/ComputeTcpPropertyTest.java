package io.forkline.pageserver.endpoint;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@link EndpointManager#NETNS_PROPERTY}: off by default, true / false / auto, anything else refused by name. */
class NetnsPropertyTest {
    @AfterEach
    void clear() {
        System.clearProperty(EndpointManager.NETNS_PROPERTY);
    }

    @Test
    void offByDefaultAndTrueFalseAsSet() {
        assertThat(EndpointManager.computesInOwnNetworkNamespace()).isFalse();
        System.setProperty(EndpointManager.NETNS_PROPERTY, " TRUE ");
        assertThat(EndpointManager.computesInOwnNetworkNamespace()).isTrue();
        System.setProperty(EndpointManager.NETNS_PROPERTY, "false");
        assertThat(EndpointManager.computesInOwnNetworkNamespace()).isFalse();
    }

    @Test
    void anotherValueIsRefusedNamingIt() {
        System.setProperty(EndpointManager.NETNS_PROPERTY, "yes");
        assertThatThrownBy(EndpointManager::computesInOwnNetworkNamespace).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("forkline.compute.netns").hasMessageContaining("'yes'");
    }
}
