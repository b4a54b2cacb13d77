package io.forkline.pageserver.endpoint;

import io.forkline.compute.endpoint.ComputeTcp;
import io.forkline.compute.proxy.relay.KernelRelay;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@link EndpointManager#NETNS_PROPERTY} (off by default) and {@link EndpointManager#PORT_GUARD_PROPERTY}
 * (auto by default: on with the kernel relay's SK_MSG shape): true / false / auto, the namespace wins,
 * anything else refused by name.
 */
class ComputeTcpPropertyTest {
    @AfterEach
    void clear() {
        System.clearProperty(EndpointManager.NETNS_PROPERTY);
        System.clearProperty(EndpointManager.PORT_GUARD_PROPERTY);
        System.clearProperty(KernelRelay.PROPERTY);
    }

    @Test
    void guardedByDefaultWithTheKernelRelayAndAsSet() {
        assertThat(EndpointManager.computeTcp()).isEqualTo(ComputeTcp.GUARDED);
        System.setProperty(KernelRelay.PROPERTY, "false");
        assertThat(EndpointManager.computeTcp()).as("auto without the kernel relay").isEqualTo(ComputeTcp.NONE);
        System.setProperty(EndpointManager.PORT_GUARD_PROPERTY, "true");
        assertThat(EndpointManager.computeTcp()).isEqualTo(ComputeTcp.GUARDED);
        System.setProperty(EndpointManager.PORT_GUARD_PROPERTY, " FALSE ");
        assertThat(EndpointManager.computeTcp()).isEqualTo(ComputeTcp.NONE);
        System.setProperty(EndpointManager.NETNS_PROPERTY, " TRUE ");
        assertThat(EndpointManager.computeTcp()).isEqualTo(ComputeTcp.OWN_NETWORK_NAMESPACE);
        System.setProperty(EndpointManager.PORT_GUARD_PROPERTY, "true");
        assertThat(EndpointManager.computeTcp()).as("the namespace wins").isEqualTo(ComputeTcp.OWN_NETWORK_NAMESPACE);
    }

    @Test
    void anotherValueIsRefusedNamingIt() {
        System.setProperty(EndpointManager.NETNS_PROPERTY, "yes");
        assertThatThrownBy(EndpointManager::computeTcp).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("forkline.compute.netns").hasMessageContaining("'yes'");
        System.clearProperty(EndpointManager.NETNS_PROPERTY);
        System.setProperty(EndpointManager.PORT_GUARD_PROPERTY, "on");
        assertThatThrownBy(EndpointManager::computeTcp).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("forkline.compute.portGuard").hasMessageContaining("'on'");
    }
}
