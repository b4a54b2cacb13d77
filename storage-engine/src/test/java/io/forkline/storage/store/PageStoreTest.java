package io.forkline.storage.store;

import io.forkline.storage.id.TenantId;
import io.forkline.storage.id.TimelineId;
import io.forkline.storage.key.Key;
import io.forkline.storage.key.RelTag;
import io.forkline.storage.timeline.TimelineMetadata;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Instant;
import java.util.NavigableMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PageStoreTest {
    private static final TenantId T = new TenantId("t");
    private static final RelTag REL = new RelTag(1663, 5, 16384, 0);

    @TempDir
    Path dir;

    private static byte[] v(int x) {
        return new byte[]{(byte) x};
    }

    private static TimelineMetadata root(TimelineId id, long start) {
        return new TimelineMetadata(id, T, null, 0, start, 15, Instant.now());
    }

    @Test
    void getReturnsNewestVersionAtOrBelowLsn() {
        try (PageStore s = PageStore.open(dir)) {
            TimelineId tl = TimelineId.generate();
            s.createTimeline(root(tl, 100));
            try (TimelineWriter w = s.writer(tl)) {
                w.put(Key.relBlock(REL, 0), 200, v(1));
                w.put(Key.relBlock(REL, 0), 300, v(2));
                w.commit(300);
            }
            assertThat(s.get(tl, Key.relBlock(REL, 0), 199)).isNull();
            assertThat(s.get(tl, Key.relBlock(REL, 0), 200)).containsExactly(1);
            assertThat(s.get(tl, Key.relBlock(REL, 0), 299)).containsExactly(1);
            assertThat(s.get(tl, Key.relBlock(REL, 0), 300)).containsExactly(2);
            assertThat(s.get(tl, Key.relBlock(REL, 0), Long.MAX_VALUE)).containsExactly(2);
            assertThat(s.get(tl, Key.relBlock(REL, 1), 300)).isNull();
            assertThat(s.lastRecordLsn(tl)).isEqualTo(300);
        }
    }

    @Test
    void backgroundWorkPendingReadsRocksDbsPropertiesAndSettlesWhenIdle() {
        try (PageStore s = PageStore.open(dir)) {
            TimelineId tl = TimelineId.generate();
            s.createTimeline(root(tl, 100));
            try (TimelineWriter w = s.writer(tl)) {
                for (int b = 0; b < 1000; b++) {
                    w.put(Key.relBlock(REL, b), 200, new byte[8192]);
                }
                w.commit(200);
            }
            s.compactTimeline(tl); // flushes and compacts the range, synchronously
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30))
                    .until(() -> !s.backgroundWorkPending());
        }
    }

    @Test
    void aReaderSeesCommitsMadeAfterItsFirstRead() {
        for (boolean keyOrder : new boolean[] {false, true}) {
            try (PageStore s = PageStore.open(dir.resolve("key-order-" + keyOrder))) {
                TimelineId tl = TimelineId.generate();
                s.createTimeline(root(tl, 100));
                Key a = Key.relBlock(REL, 0);
                Key b = Key.relBlock(REL, 1);
                try (TimelineWriter w = s.writer(tl)) {
                    w.put(a, 200, v(1));
                    w.put(b, 200, v(2));
                    w.commit(200);
                }
                try (PageStore.Reader r = s.reader(false, keyOrder)) {
                    // the first miss opens the reader's shared iterator
                    assertThat(r.getVersions(tl, new Key[] {a}, 200)[0].value()).containsExactly(1);
                    try (TimelineWriter w = s.writer(tl)) {
                        w.put(b, 300, v(3));
                        w.commit(300);
                    }
                    // b was never cached: the lookup must not use the snapshot from before the commit
                    assertThat(r.getVersions(tl, new Key[] {b}, 300)[0].value()).containsExactly(3);
                    assertThat(r.getVersions(tl, new Key[] {a, b}, 300)).extracting(PageStore.Version::lsn)
                            .containsExactly(200L, 300L);
                }
                assertThat(s.get(tl, b, 300)).containsExactly(3);
            }
        }
    }

    @Test
    void childFallsThroughToAncestorAtBranchPointAndHidesLaterParentWrites() {
        try (PageStore s = PageStore.open(dir)) {
            TimelineId parent = TimelineId.generate();
            s.createTimeline(root(parent, 100));
            try (TimelineWriter w = s.writer(parent)) {
                w.put(Key.relBlock(REL, 0), 200, v(1));
                w.put(Key.relBlock(REL, 1), 200, v(9));
                w.commit(200);
                w.put(Key.relBlock(REL, 0), 400, v(2));
                w.commit(400);
            }
            TimelineId child = TimelineId.generate();
            s.createTimeline(new TimelineMetadata(child, T, parent, 300, 300, 15, Instant.now()));
            try (TimelineWriter w = s.writer(child)) {
                w.put(Key.relBlock(REL, 1), 500, v(7));
                w.delete(Key.relBlock(REL, 2), 500);
                w.commit(500);
            }
            assertThat(s.get(child, Key.relBlock(REL, 0), 1000)).containsExactly(1);
            assertThat(s.get(child, Key.relBlock(REL, 1), 499)).containsExactly(9);
            assertThat(s.get(child, Key.relBlock(REL, 1), 500)).containsExactly(7);
            assertThat(s.get(parent, Key.relBlock(REL, 1), 1000)).containsExactly(9);
            assertThat(s.get(parent, Key.relBlock(REL, 0), 1000)).containsExactly(2);

            NavigableMap<Key, byte[]> scan = s.scan(child, Key.kindStart(Key.REL_BLOCK), Key.kindEnd(Key.REL_BLOCK), 1000);
            assertThat(scan).containsOnlyKeys(Key.relBlock(REL, 0), Key.relBlock(REL, 1));
            assertThat(scan.get(Key.relBlock(REL, 1))).containsExactly(7);
        }
    }

    @Test
    void scanOfNonPageKeysTakesTheNewestVersionAtOrBelowTheLsnOfEveryKeyAcrossAncestors() {
        // REL_SIZE keys get one version per relation extension: the scan seeks per key instead of
        // stepping through versions; it must agree with a point get of every key at every LSN
        try (PageStore s = PageStore.open(dir)) {
            TimelineId parent = TimelineId.generate();
            s.createTimeline(root(parent, 100));
            java.util.Random random = new java.util.Random(42);
            RelTag[] rels = new RelTag[12];
            for (int i = 0; i < rels.length; i++) {
                rels[i] = new RelTag(1663, 5, 16384 + i, i % 3);
            }
            try (TimelineWriter w = s.writer(parent)) {
                for (long lsn = 200; lsn <= 2000; lsn += 10) {
                    RelTag r = rels[random.nextInt(rels.length)];
                    if (random.nextInt(20) == 0) {
                        w.delete(Key.relSize(r), lsn);
                    } else {
                        w.put(Key.relSize(r), lsn, v((int) (lsn / 10)));
                    }
                    w.commit(lsn);
                }
            }
            TimelineId child = TimelineId.generate();
            s.createTimeline(new TimelineMetadata(child, T, parent, 1200, 1200, 15, Instant.now()));
            try (TimelineWriter w = s.writer(child)) {
                for (long lsn = 1300; lsn <= 1800; lsn += 10) {
                    RelTag r = rels[random.nextInt(rels.length)];
                    w.put(Key.relSize(r), lsn, v((int) (lsn / 10) + 1));
                    w.commit(lsn);
                }
            }
            for (TimelineId tl : new TimelineId[]{parent, child}) {
                for (long lsn = 100; lsn <= 2100; lsn += 35) {
                    NavigableMap<Key, byte[]> scan = s.scan(tl, Key.kindStart(Key.REL_SIZE), Key.kindEnd(Key.REL_SIZE), lsn);
                    java.util.Map<Key, byte[]> expected = new java.util.TreeMap<>();
                    for (RelTag r : rels) {
                        byte[] got = s.get(tl, Key.relSize(r), lsn);
                        if (got != null) {
                            expected.put(Key.relSize(r), got);
                        }
                    }
                    assertThat(scan.keySet()).as("keys at %d", lsn).containsExactlyElementsOf(expected.keySet());
                    for (java.util.Map.Entry<Key, byte[]> e : expected.entrySet()) {
                        assertThat(scan.get(e.getKey())).as("%s at %d", e.getKey(), lsn).containsExactly(e.getValue());
                    }
                }
            }
        }
    }

    @Test
    void tombstoneHidesAncestorVersion() {
        try (PageStore s = PageStore.open(dir)) {
            TimelineId parent = TimelineId.generate();
            s.createTimeline(root(parent, 100));
            try (TimelineWriter w = s.writer(parent)) {
                w.put(Key.relSize(REL), 200, v(1));
                w.commit(200);
            }
            TimelineId child = TimelineId.generate();
            s.createTimeline(new TimelineMetadata(child, T, parent, 200, 200, 15, Instant.now()));
            try (TimelineWriter w = s.writer(child)) {
                w.delete(Key.relSize(REL), 300);
                assertThat(w.get(Key.relSize(REL), 300)).as("staged tombstone visible to the writer").isNull();
                w.commit(300);
            }
            assertThat(s.get(child, Key.relSize(REL), 250)).containsExactly(1);
            assertThat(s.get(child, Key.relSize(REL), 300)).isNull();
            assertThat(s.scan(child, Key.kindStart(Key.REL_SIZE), Key.kindEnd(Key.REL_SIZE), 300)).isEmpty();
        }
    }

    @Test
    void committedVersionsAndLastRecordLsnSurviveReopenButUncommittedDoNot() {
        TimelineId tl = TimelineId.generate();
        try (PageStore s = PageStore.open(dir)) {
            s.createTimeline(root(tl, 100));
            TimelineWriter w = s.writer(tl);
            w.put(Key.relBlock(REL, 0), 200, v(1));
            w.commit(200);
            w.put(Key.relBlock(REL, 0), 300, v(2));
            w.close(); // dropped without commit
        }
        try (PageStore s = PageStore.open(dir)) {
            assertThat(s.timeline(tl)).isNotNull();
            assertThat(s.lastRecordLsn(tl)).isEqualTo(200);
            assertThat(s.get(tl, Key.relBlock(REL, 0), 1000)).containsExactly(1);
        }
    }

    @Test
    void commitTimestampMapsToLastCommitAtOrBeforeAndRespectsBranchPoint() {
        try (PageStore s = PageStore.open(dir)) {
            TimelineId parent = TimelineId.generate();
            s.createTimeline(root(parent, 100));
            try (TimelineWriter w = s.writer(parent)) {
                w.putCommitTimestamp(1_000, 200);
                w.putCommitTimestamp(2_000, 300);
                w.putCommitTimestamp(3_000, 400);
                w.commit(400);
            }
            assertThat(s.lsnForTimestamp(parent, 999)).isZero();
            assertThat(s.lsnForTimestamp(parent, 1_000)).isEqualTo(200);
            assertThat(s.lsnForTimestamp(parent, 2_500)).isEqualTo(300);
            assertThat(s.lsnForTimestamp(parent, 9_999)).isEqualTo(400);
            TimelineId child = TimelineId.generate();
            s.createTimeline(new TimelineMetadata(child, T, parent, 350, 350, 15, Instant.now()));
            assertThat(s.lsnForTimestamp(child, 9_999)).isEqualTo(350);
            assertThat(s.lsnForTimestamp(child, 2_500)).isEqualTo(300);
        }
    }

    @Test
    void deleteTimelineRemovesItsVersionsOnly() {
        try (PageStore s = PageStore.open(dir)) {
            TimelineId a = TimelineId.generate();
            TimelineId b = TimelineId.generate();
            s.createTimeline(root(a, 100));
            s.createTimeline(root(b, 100));
            try (TimelineWriter w = s.writer(a)) {
                w.put(Key.relBlock(REL, 0), 200, v(1));
                w.commit(200);
            }
            try (TimelineWriter w = s.writer(b)) {
                w.put(Key.relBlock(REL, 0), 200, v(2));
                w.commit(200);
            }
            s.deleteTimeline(a);
            assertThat(s.timeline(a)).isNull();
            assertThatThrownBy(() -> s.get(a, Key.relBlock(REL, 0), 300)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(a.toString());
            assertThat(s.get(b, Key.relBlock(REL, 0), 300)).containsExactly(2);
        }
    }

    @Test
    void creatingTimelineWithUnknownAncestorFails() {
        try (PageStore s = PageStore.open(dir)) {
            TimelineId ghost = TimelineId.generate();
            assertThatThrownBy(() -> s.createTimeline(new TimelineMetadata(TimelineId.generate(), T, ghost, 1, 1, 15,
                    Instant.now()))).hasMessageContaining(ghost.toString());
        }
    }

    @Test
    void branchPointBelowTheParentsStartLsnIsRefusedNamingBothLsns() {
        try (PageStore s = PageStore.open(dir)) {
            TimelineId parent = TimelineId.generate();
            s.createTimeline(root(parent, 0x200));
            TimelineId child = TimelineId.generate();
            assertThatThrownBy(() -> s.createTimeline(new TimelineMetadata(child, T, parent, 0x1FF, 0x1FF, 15,
                    Instant.now()))).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("0/1FF").hasMessageContaining("0/200").hasMessageContaining(parent.toString())
                    .hasMessageContaining("start LSN");
            assertThat(s.timeline(child)).isNull();
            s.createTimeline(new TimelineMetadata(child, T, parent, 0x200, 0x200, 15, Instant.now()));
            assertThat(s.children(parent)).extracting(TimelineMetadata::id).containsExactly(child);
        }
    }

    @Test
    void deleteTimelineRefusesATimelineWithChildrenNamingThem() {
        try (PageStore s = PageStore.open(dir)) {
            TimelineId parent = TimelineId.generate();
            s.createTimeline(root(parent, 100));
            try (TimelineWriter w = s.writer(parent)) {
                w.put(Key.relBlock(REL, 0), 200, v(1));
                w.commit(200);
            }
            TimelineId child = TimelineId.generate();
            s.createTimeline(new TimelineMetadata(child, T, parent, 200, 200, 15, Instant.now()));
            assertThatThrownBy(() -> s.deleteTimeline(parent)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(parent.toString()).hasMessageContaining(child.toString());
            assertThat(s.get(child, Key.relBlock(REL, 0), 300)).containsExactly(1);
            s.deleteTimeline(child);
            s.deleteTimeline(parent);
            assertThat(s.timeline(parent)).isNull();
        }
    }

    @Test
    void aWriterOfADeletedTimelineCannotCommitIntoIt() {
        TimelineId tl = TimelineId.generate();
        try (PageStore s = PageStore.open(dir)) {
            s.createTimeline(root(tl, 100));
            TimelineWriter w = s.writer(tl);
            w.put(Key.relBlock(REL, 0), 200, v(1));
            s.deleteTimeline(tl);
            assertThatThrownBy(() -> w.commit(200)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(tl.toString());
            assertThatThrownBy(() -> s.advanceGcCutoff(tl, 100)).isInstanceOf(IllegalArgumentException.class);
            s.createTimeline(root(tl, 100)); // the id is free again, with nothing of the old one
            assertThat(s.get(tl, Key.relBlock(REL, 0), 300)).isNull();
            assertThat(s.storedBytes(tl)).isZero();
            assertThat(s.gcCutoff(tl)).isZero();
        }
    }

    @Test
    void putRefusesAVersionBelowTheKeysNewestStagedOne() {
        try (PageStore s = PageStore.open(dir)) {
            TimelineId tl = TimelineId.generate();
            s.createTimeline(root(tl, 100));
            try (TimelineWriter w = s.writer(tl)) {
                w.put(Key.relBlock(REL, 0), 0x300, v(1));
                assertThatThrownBy(() -> w.put(Key.relBlock(REL, 0), 0x2FF, v(2)))
                        .isInstanceOf(IllegalArgumentException.class)
                        .hasMessageContaining(Key.relBlock(REL, 0).toString())
                        .hasMessageContaining("0/2FF").hasMessageContaining("0/300");
                w.put(Key.relBlock(REL, 1), 0x200, v(3)); // other keys are independent
                w.put(Key.relBlock(REL, 0), 0x300, v(4)); // same LSN: replaces
                w.commit(0x300);
            }
            assertThat(s.get(tl, Key.relBlock(REL, 0), 0x300)).containsExactly(4);
            assertThat(s.get(tl, Key.relBlock(REL, 1), 0x300)).containsExactly(3);
        }
    }

    @Test
    void commitRefusesALastRecordLsnBelowTheDurableOneAndKeepsTheBatchStaged() {
        try (PageStore s = PageStore.open(dir)) {
            TimelineId tl = TimelineId.generate();
            s.createTimeline(root(tl, 0x100));
            try (TimelineWriter w = s.writer(tl)) {
                w.commit(0x100); // at the start LSN: allowed (an import commits there)
                w.put(Key.relBlock(REL, 0), 0x300, v(1));
                w.commit(0x300);
                w.put(Key.relBlock(REL, 1), 0x400, v(2));
                assertThatThrownBy(() -> w.commit(0x2FF)).isInstanceOf(IllegalArgumentException.class)
                        .hasMessageContaining("0/2FF").hasMessageContaining("0/300").hasMessageContaining(tl.toString());
                assertThat(s.lastRecordLsn(tl)).isEqualTo(0x300);
                assertThat(s.get(tl, Key.relBlock(REL, 1), 0x400)).isNull();
                w.commit(0x400);
            }
            assertThat(s.get(tl, Key.relBlock(REL, 1), 0x400)).containsExactly(2);
            assertThat(s.lastRecordLsn(tl)).isEqualTo(0x400);
        }
    }

    @Test
    void metadataListingsSeeLiveRecordsInUtf8OrderAcrossDeletesAndReopen() {
        // U+FF21 (3 UTF-8 bytes) sorts before U+1F600 (4 bytes, a surrogate pair in UTF-16: String.compareTo
        // would put it first); RocksDB orders by UTF-8 bytes and the listing must agree before and after reopen
        java.util.List<String> expected = java.util.List.of("branch/t/a", "branch/t/b-1", "branch/t/\uFF21",
                "branch/t/\uD83D\uDE00");
        try (PageStore s = PageStore.open(dir)) {
            for (int i = 0; i < 500; i++) { // tombstones under the prefix
                s.putMetadata("branch/t/tmp" + i, v(i));
                s.deleteMetadata("branch/t/tmp" + i);
            }
            for (String k : expected) {
                s.putMetadata(k, v(1));
            }
            s.putMetadata("branch/u/other", v(2));
            s.putMetadata("branch/t", v(3)); // not under "branch/t/"
            assertThat(s.listMetadata("branch/t/").keySet()).containsExactlyElementsOf(expected);
            byte[] got = s.getMetadata("branch/t/a");
            got[0] = 99; // a copy: the store's record stays
            assertThat(s.getMetadata("branch/t/a")).containsExactly(1);
            s.listMetadata("branch/t/").get("branch/t/a")[0] = 99;
            assertThat(s.listMetadata("branch/t/").get("branch/t/a")).containsExactly(1);
        }
        try (PageStore s = PageStore.open(dir)) {
            assertThat(s.listMetadata("branch/t/").keySet()).containsExactlyElementsOf(expected);
            assertThat(s.listMetadata("branch/").keySet()).hasSize(6); // with "branch/t" and "branch/u/other"
            assertThat(s.getMetadata("branch/t/tmp7")).isNull();
        }
    }

    @Test
    void timelineCreateAndDeleteCarryMetadataChangesInTheSameBatch() {
        TimelineId root = TimelineId.generate();
        TimelineId child = TimelineId.generate();
        try (PageStore s = PageStore.open(dir)) {
            s.createTimeline(root(root, 100));
            s.putMetadata("old", v(7));
            java.util.Map<String, byte[]> withCreate = new java.util.LinkedHashMap<>();
            withCreate.put("branch/t/dev", v(1));
            withCreate.put("old", null); // a null value deletes
            s.createTimeline(new TimelineMetadata(child, T, root, 100, 100, 15, Instant.now()), withCreate);
            assertThat(s.getMetadata("branch/t/dev")).containsExactly(1);
            assertThat(s.getMetadata("old")).isNull();
        }
        try (PageStore s = PageStore.open(dir)) { // durable
            assertThat(s.timeline(child)).isNotNull();
            assertThat(s.getMetadata("branch/t/dev")).containsExactly(1);
            // refused: nothing of the batch is written
            TimelineId ghost = TimelineId.generate();
            assertThatThrownBy(() -> s.createTimeline(new TimelineMetadata(TimelineId.generate(), T, ghost, 1, 1, 15,
                    Instant.now()), java.util.Map.of("branch/t/never", v(2)))).isInstanceOf(IllegalArgumentException.class);
            assertThat(s.getMetadata("branch/t/never")).isNull();
            assertThatThrownBy(() -> s.deleteTimeline(root, java.util.Map.of("branch/t/never", v(2))))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(child.toString());
            assertThat(s.getMetadata("branch/t/never")).isNull();
            assertThat(s.timeline(root)).isNotNull();

            java.util.Map<String, byte[]> withDelete = new java.util.LinkedHashMap<>();
            withDelete.put("branch/t/dev", null);
            withDelete.put("retired/t/x", v(3));
            s.deleteTimeline(child, withDelete);
            assertThat(s.timeline(child)).isNull();
            assertThat(s.getMetadata("branch/t/dev")).isNull();
            assertThat(s.getMetadata("retired/t/x")).containsExactly(3);
        }
        try (PageStore s = PageStore.open(dir)) {
            assertThat(s.timeline(child)).isNull();
            assertThat(s.getMetadata("branch/t/dev")).isNull();
            s.writeMetadata(java.util.Map.of("a", v(4)));
            java.util.Map<String, byte[]> two = new java.util.LinkedHashMap<>();
            two.put("a", null);
            two.put("b", v(5));
            s.writeMetadata(two);
            assertThat(s.getMetadata("a")).isNull();
            assertThat(s.getMetadata("b")).containsExactly(5);
        }
    }

    @Test
    void deletingATimelineRemovesWhatItWroteAlsoWhenItWroteOnlyACommitTimestampOrNothing() {
        try (PageStore s = PageStore.open(dir)) {
            TimelineId unused = TimelineId.generate();
            TimelineId commitOnly = TimelineId.generate();
            TimelineId written = TimelineId.generate();
            for (TimelineId tl : new TimelineId[] {unused, commitOnly, written}) {
                s.createTimeline(root(tl, 100));
            }
            try (TimelineWriter w = s.writer(commitOnly)) {
                w.putCommitTimestamp(1_000, 200); // a commit that changed no page
                w.commit(200);
            }
            try (TimelineWriter w = s.writer(written)) {
                w.put(Key.relBlock(REL, 0), 200, v(1));
                w.putCommitTimestamp(1_000, 200);
                w.commit(200);
            }
            for (TimelineId tl : new TimelineId[] {unused, commitOnly, written}) {
                s.deleteTimeline(tl);
                assertThat(s.timeline(tl)).isNull();
                s.createTimeline(root(tl, 100)); // the same id again: nothing of the old one shows
                assertThat(s.get(tl, Key.relBlock(REL, 0), 1000)).as(tl.toString()).isNull();
                assertThat(s.lsnForTimestamp(tl, 9_999)).as(tl.toString()).isZero();
                assertThat(s.storedBytes(tl)).isZero();
            }
        }
    }
}
