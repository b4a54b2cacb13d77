package io.forkline.pageserver.tenant;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * A tenant as the API and the store's metadata records ({@code tenant/<name>}) show it (JSON,
 * snake_case). Unknown fields of a stored record are ignored, so records written by a newer server
 * still load.
 *
 * @param name      tenant name
 * @param createdAt RFC 3339 UTC
 * @param initLsn   LSN at which initdb's cluster was imported, {@code X/Y}
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record TenantInfo(@JsonProperty("name") String name,
                         @JsonProperty("created_at") String createdAt,
                         @JsonProperty("init_lsn") String initLsn) {
}
