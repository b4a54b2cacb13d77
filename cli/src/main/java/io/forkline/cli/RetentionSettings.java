package io.forkline.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.forkline.format.size.ByteSizeText;
import io.forkline.format.interval.IntervalText;

import java.util.Iterator;
import java.util.Map;
import java.util.Set;

/**
 * The retention keys of {@code forkline tenant config T pitr_interval=7d gc_horizon=64MB}: they are
 * served by {@code GET/POST /v1/tenants/{t}/retention}, the other keys by {@code /config}.
 */
final class RetentionSettings {
    /** Keys that belong to retention. */
    static final Set<String> KEYS = Set.of("pitr_interval", "gc_horizon");

    private RetentionSettings() {
    }

    /**
     * Checks the retention values as the server will ({@link IntervalText#parse} for
     * {@code pitr_interval}, {@link ByteSizeText#parse} for {@code gc_horizon}; {@code null}, a reset
     * to the default, is always valid), so that a bad value is refused before any setting is sent.
     *
     * @param retention retention key → text value or {@code null}, as {@link #split} left them
     * @throws CliException naming the key and the bad value
     */
    static void validate(Map<String, Object> retention) {
        for (Map.Entry<String, Object> e : retention.entrySet()) {
            if (e.getValue() == null) {
                continue;
            }
            String v = e.getValue().toString();
            try {
                if (e.getKey().equals("pitr_interval")) {
                    IntervalText.parse(v);
                } else {
                    ByteSizeText.parse(v);
                }
            } catch (IllegalArgumentException ex) {
                throw new CliException(e.getKey() + ": " + ex.getMessage());
            }
        }
    }

    /** Moves the retention keys of {@code all} into {@code retention}. */
    static void split(Map<String, Object> all, Map<String, Object> retention) {
        for (Iterator<Map.Entry<String, Object>> it = all.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<String, Object> e = it.next();
            if (KEYS.contains(e.getKey())) {
                retention.put(e.getKey(), e.getValue());
                it.remove();
            }
        }
    }

    /** Sets the given retention keys (none: only reads) and returns the tenant's retention settings. */
    static JsonNode apply(AdminClient client, String tenant, Map<String, Object> retention) {
        String path = AdminClient.tenantPath(tenant) + "/retention";
        return retention.isEmpty() ? client.get(path) : client.post(path, retention);
    }

    /** Prints the rows {@code pitr_interval} and {@code gc_horizon} into the config table. */
    static void print(Table table, JsonNode r) {
        for (String k : new String[] {"pitr_interval", "gc_horizon"}) {
            table.row(k, r.path(k).asText(), "-", r.path("source").path(k).asText("default"));
        }
    }
}
