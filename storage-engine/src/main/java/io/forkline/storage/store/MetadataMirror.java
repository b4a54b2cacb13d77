package io.forkline.storage.store;

import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksIterator;

import java.nio.charset.StandardCharsets;
import java.util.Comparator;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * An in-memory copy of the {@code meta} column family (the pageserver's named records: tenants,
 * branches, backups, settings; a few KB each), read by {@link PageStore#getMetadata} and
 * {@link PageStore#listMetadata} instead of RocksDB. A prefix listing walks only the live records
 * under the prefix: a RocksDB iterator also steps over the tombstones every deleted record leaves
 * in the memtable until compaction, so after many branch creates and deletes each listing of a
 * tenant's branches cost a scan of all of them (most of a branch create's CPU in the admin API).
 *
 * <p>Names are ordered by code point, which is the order of their UTF-8 bytes, RocksDB's
 * bytewise order. Writers change RocksDB and then this copy while holding this object's monitor
 * ({@link PageStore} does), so the copy applies writes in RocksDB's order; readers take no lock
 * and see every write that returned. Values handed out are copies.
 */
final class MetadataMirror {
    /** Code point order = UTF-8 byte order (String.compareTo is UTF-16 order, which differs above U+D7FF). */
    private static final Comparator<String> CODE_POINT_ORDER = (a, b) -> {
        int i = 0;
        int j = 0;
        while (i < a.length() && j < b.length()) {
            int ca = a.codePointAt(i);
            int cb = b.codePointAt(j);
            if (ca != cb) {
                return Integer.compare(ca, cb);
            }
            i += Character.charCount(ca);
            j += Character.charCount(cb);
        }
        return Integer.compare(a.length() - i, b.length() - j);
    };

    private final ConcurrentSkipListMap<String, byte[]> records = new ConcurrentSkipListMap<>(CODE_POINT_ORDER);

    /** Loads every record of {@code cf}. */
    MetadataMirror(RocksDB db, ColumnFamilyHandle cf) {
        try (RocksIterator it = db.newIterator(cf)) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                records.put(new String(it.key(), StandardCharsets.UTF_8), it.value());
            }
        }
    }

    /** A copy of the record, or {@code null}. */
    byte[] get(String name) {
        byte[] v = records.get(name);
        return v == null ? null : v.clone();
    }

    /** Copies of the records whose names start with {@code prefix}, in name order. */
    NavigableMap<String, byte[]> list(String prefix) {
        NavigableMap<String, byte[]> out = new TreeMap<>(CODE_POINT_ORDER);
        for (Map.Entry<String, byte[]> e : records.tailMap(prefix, true).entrySet()) {
            if (!e.getKey().startsWith(prefix)) {
                break;
            }
            out.put(e.getKey(), e.getValue().clone());
        }
        return out;
    }

    /** Applies written changes: name -> value, or {@code null} for a delete. Call under this monitor, after the write. */
    void apply(Map<String, byte[]> changes) {
        for (Map.Entry<String, byte[]> e : changes.entrySet()) {
            if (e.getValue() == null) {
                records.remove(e.getKey());
            } else {
                records.put(e.getKey(), e.getValue().clone());
            }
        }
    }
}
