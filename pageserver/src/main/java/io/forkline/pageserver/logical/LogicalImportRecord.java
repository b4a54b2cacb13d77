package io.forkline.pageserver.logical;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * That a tenant's {@code main} follows a publication of another PostgreSQL through a subscription
 * on its compute: the JSON record {@code logical-import/<tenant>}.
 *
 * @param tenant       tenant name
 * @param source       the source's libpq URI as given, with its password, sealed with the server's
 *                     secret key (AES-GCM bound to the record key); never shown by the API
 * @param display      the source's URI without its password, for listings
 * @param database     the database on the source and on {@code main} (the URI's, default {@code postgres})
 * @param publication  the publication on the source
 * @param subscription the subscription on {@code main}'s compute, also the name of its logical
 *                     replication slot on the source
 * @param createdAt    RFC 3339 UTC
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record LogicalImportRecord(@JsonProperty("tenant") String tenant,
                                  @JsonProperty("source") String source,
                                  @JsonProperty("display") String display,
                                  @JsonProperty("database") String database,
                                  @JsonProperty("publication") String publication,
                                  @JsonProperty("subscription") String subscription,
                                  @JsonProperty("created_at") String createdAt) {
    /** Metadata key prefix of these records. */
    public static final String PREFIX = "logical-import/";

    /** Metadata key of a tenant's record. */
    public static String key(String tenant) {
        return PREFIX + tenant;
    }
}
