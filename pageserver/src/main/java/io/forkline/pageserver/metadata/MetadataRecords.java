package io.forkline.pageserver.metadata;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.forkline.storage.store.PageStore;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The server's JSON records in the page store's metadata ({@link PageStore#putMetadata}): tenants,
 * branches, backups, schedules, leases, settings. One lenient mapper for all of them: fields a
 * record has and its Java type does not (written by a newer server) are ignored, so records still
 * load after an upgrade and a downgrade.
 *
 * <p>Each write is one durable RocksDB put (several records at once: {@link Changes}, one atomic
 * batch); reads see the latest write. Thread-safe; callers
 * serialize read-modify-write sequences themselves (the tenant's lock).
 */
public final class MetadataRecords {
    private static final ObjectMapper JSON = new ObjectMapper()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    private final PageStore store;

    /** Records kept in {@code store}'s metadata. */
    public MetadataRecords(PageStore store) {
        this.store = store;
    }

    /** The store the records live in. */
    public PageStore store() {
        return store;
    }

    /**
     * The record under {@code key}, or {@code null} when there is none.
     *
     * @throws UncheckedIOException naming the key when the stored bytes are not a {@code type}
     */
    public <T> T get(String key, Class<T> type) {
        byte[] v = store.getMetadata(key);
        return v == null ? null : read(key, v, type);
    }

    /** Whether a record exists under {@code key}. */
    public boolean exists(String key) {
        return store.getMetadata(key) != null;
    }

    /** Writes {@code value} as JSON under {@code key}, durably, replacing any record there. */
    public void put(String key, Object value) {
        store.putMetadata(key, encode(key, value));
    }

    /** Deletes the record under {@code key}; no-op when there is none. */
    public void delete(String key) {
        store.deleteMetadata(key);
    }

    /**
     * Record changes to be written together: by {@link #write}, or with a timeline change in the
     * same atomic batch ({@link PageStore#createTimeline(io.forkline.storage.timeline.TimelineMetadata, Map)},
     * {@link PageStore#deleteTimeline(io.forkline.storage.id.TimelineId, Map)}). Not thread-safe.
     */
    public static final class Changes {
        private final Map<String, byte[]> changes = new LinkedHashMap<>();

        /** Writes {@code value} as JSON under {@code key}, replacing any record there. */
        public Changes put(String key, Object value) {
            changes.put(key, encode(key, value));
            return this;
        }

        /** Deletes the record under {@code key} (no-op when there is none). */
        public Changes delete(String key) {
            changes.put(key, null);
            return this;
        }

        /** Adds all of {@code other}'s changes after these. */
        public Changes putAll(Changes other) {
            changes.putAll(other.changes);
            return this;
        }

        /** record name -> JSON bytes, or {@code null} for a delete; in the order given. */
        public Map<String, byte[]> asMap() {
            return java.util.Collections.unmodifiableMap(changes);
        }
    }

    /** Applies {@code changes} in one atomic, durable write (all or none after a crash). */
    public void write(Changes changes) {
        store.writeMetadata(changes.asMap());
    }

    private static byte[] encode(String key, Object value) {
        try {
            return JSON.writeValueAsBytes(value);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write metadata record " + key, e);
        }
    }

    /**
     * The records whose keys start with {@code prefix}, in key order.
     *
     * @throws UncheckedIOException naming the key of a record that is not a {@code type}
     */
    public <T> List<T> list(String prefix, Class<T> type) {
        return new ArrayList<>(listWithKeys(prefix, type).values());
    }

    /** Like {@link #list}, as {@code key -> record} in key order. */
    public <T> Map<String, T> listWithKeys(String prefix, Class<T> type) {
        Map<String, T> out = new LinkedHashMap<>();
        for (Map.Entry<String, byte[]> e : store.listMetadata(prefix).entrySet()) {
            out.put(e.getKey(), read(e.getKey(), e.getValue(), type));
        }
        return out;
    }

    /**
     * The time text every record uses: RFC 3339 UTC truncated to milliseconds, e.g.
     * {@code 2026-11-21T10:15:30.250Z} ({@link Instant#toString()} form: no fraction when it is zero).
     */
    public static String timestamp(Instant t) {
        return t.truncatedTo(ChronoUnit.MILLIS).toString();
    }

    private static <T> T read(String key, byte[] bytes, Class<T> type) {
        try {
            return JSON.readValue(bytes, type);
        } catch (IOException e) {
            throw new UncheckedIOException("corrupt metadata record " + key + " (" + type.getSimpleName() + ")", e);
        }
    }
}
