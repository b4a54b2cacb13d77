package io.forkline.pageserver.endpoint;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * What the server remembers of an endpoint across its own restarts, as the metadata record
 * {@code endpoint/<tenant>/<ref>} (JSON): the port and size of its last start, and whether it was
 * running when the server last went down (a stop clears it; a server shutdown or crash leaves it).
 * A server that starts restarts every endpoint marked running on its port
 * ({@link EndpointManager#toResume}), so stored connection strings keep working.
 *
 * @param port       TCP port of the last start
 * @param size       compute size of the last start ({@code xs}, {@code s}, {@code m}, {@code l})
 * @param timelineId the timeline it served (32 hex digits)
 * @param running    it ran when the server went down (or still runs)
 * @param note       why it did not come back after the last server start, else {@code null}
 * @param suspended  it was suspended for want of client sessions (not resumed at server start; the
 *                   next connection wakes it)
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record EndpointRecord(@JsonProperty("port") int port, @JsonProperty("size") String size,
                             @JsonProperty("timeline_id") String timelineId, @JsonProperty("running") boolean running,
                             @JsonProperty("note") String note, @JsonProperty("suspended") boolean suspended) {
    /** A record of an endpoint that is not suspended. */
    public EndpointRecord(int port, String size, String timelineId, boolean running, String note) {
        this(port, size, timelineId, running, note, false);
    }

    /** The record key of {@code tenant}/{@code ref}. */
    static String key(String tenant, String ref) {
        return "endpoint/" + tenant + "/" + ref;
    }
}
