package io.forkline.compute.proxy.wire;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A decoded startup-phase packet (PostgreSQL 15 {@code postmaster.c}, {@code ProcessStartupPacket}).
 */
public sealed interface StartupPacket {
    /** SSLRequest: the client asks for TLS; answer 'S' (then the handshake) or 'N'. */
    record SslRequest() implements StartupPacket {
    }

    /** GSSENCRequest: the client asks for GSSAPI encryption; the proxy answers 'N'. */
    record GssEncRequest() implements StartupPacket {
    }

    /** CancelRequest with the key a BackendKeyData gave the client. */
    record CancelRequest(int pid, int secret) implements StartupPacket {
    }

    /**
     * A StartupMessage.
     *
     * @param majorVersion protocol major version (3 is the only one served)
     * @param minorVersion protocol minor version
     * @param parameters   name/value pairs in the order sent (user, database, options, ...)
     */
    record Startup(int majorVersion, int minorVersion, Map<String, String> parameters) implements StartupPacket {
        public Startup {
            parameters = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(parameters));
        }

        /** The {@code _pq_.*} protocol options (which the proxy does not support). */
        public List<String> protocolOptions() {
            return parameters.keySet().stream().filter(k -> k.startsWith("_pq_.")).toList();
        }
    }
}
