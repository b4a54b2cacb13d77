package io.forkline.pageserver.branch;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import io.forkline.pageserver.api.ApiException;

import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * A tenant's settings, stored as JSON in the page store's metadata record {@code tenant-config/<tenant>}.
 * Every field is optional: {@code null} means "the server's default". Unknown fields of a stored
 * record are ignored, so a record written by a newer server still loads.
 *
 * <p>To add a setting: add a component (JSON snake_case, nullable), a case in {@link #with} and
 * its name in {@link #KEYS}.
 *
 * @param maxBranches         at most this many branches (main included), 1..100000
 * @param maxRunningEndpoints at most this many endpoints running or provisioning at once, 0..10000
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record TenantConfig(@JsonProperty("max_branches") Integer maxBranches,
                           @JsonProperty("max_running_endpoints") Integer maxRunningEndpoints) {
    /** The settings {@link #with} accepts. */
    public static final List<String> KEYS = List.of("max_branches", "max_running_endpoints");

    /** No overrides: every setting is the server's default. */
    public static final TenantConfig EMPTY = new TenantConfig(null, null);

    /**
     * This config with the fields of {@code update} applied; a JSON {@code null} clears a setting
     * back to the server default.
     *
     * @param update a JSON object, e.g. {@code {"max_branches":20}}
     * @throws ApiException 400 naming the key for an unknown key, and naming the value for a
     *                      non-integer or out-of-range one
     */
    public TenantConfig with(JsonNode update) {
        TenantConfig c = this;
        for (Iterator<Map.Entry<String, JsonNode>> it = update.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> f = it.next();
            JsonNode v = f.getValue();
            switch (f.getKey()) {
                case "max_branches" -> c = new TenantConfig(intOrNull(f.getKey(), v, 1, 100_000), c.maxRunningEndpoints);
                case "max_running_endpoints" -> c = new TenantConfig(c.maxBranches, intOrNull(f.getKey(), v, 0, 10_000));
                default -> throw ApiException.badRequest("unknown tenant setting '" + f.getKey() + "': known are "
                        + String.join(", ", KEYS));
            }
        }
        return c;
    }

    private static Integer intOrNull(String key, JsonNode v, int min, int max) {
        if (v == null || v.isNull()) {
            return null;
        }
        long n;
        if (v.isIntegralNumber() && v.canConvertToLong()) {
            n = v.asLong();
        } else if (v.isTextual() && v.asText().strip().matches("-?[0-9]{1,10}")) {
            n = Long.parseLong(v.asText().strip());
        } else {
            throw ApiException.badRequest("invalid " + key + " " + v + ": expected an integer " + min + ".." + max);
        }
        if (n < min || n > max) {
            throw ApiException.badRequest("invalid " + key + " " + v + ": expected an integer " + min + ".." + max);
        }
        return (int) n;
    }
}
