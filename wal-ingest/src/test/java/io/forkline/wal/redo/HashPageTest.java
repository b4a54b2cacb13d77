package io.forkline.wal.redo;

import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Hash page helpers against values worked out by hand from PostgreSQL 15's C ({@code hashutil.c},
 * {@code hashpage.c}, {@code hash_mask}), and a corrupted hash fixture expectation being noticed.
 */
class HashPageTest {
    @Test
    void splitpointPhasesFollowHashutil() {
        // one phase per group up to 2^9 buckets: group = ceil(log2(n))
        assertThat(HashPage.spareindex(2)).isEqualTo(1);
        assertThat(HashPage.spareindex(7)).isEqualTo(3);
        assertThat(HashPage.spareindex(8)).isEqualTo(3);
        assertThat(HashPage.spareindex(512)).isEqualTo(9);
        // group 10 has four phases of 128 buckets: 513 -> 10, 1024 -> 10 + ((1023 >> 7) & 3) = 13
        assertThat(HashPage.spareindex(513)).isEqualTo(10);
        assertThat(HashPage.spareindex(1024)).isEqualTo(13);
        // four phases per group above: 1025 buckets -> group 11, phase 10 + 4 + ((1024 >> 8) & 3) = 14
        assertThat(HashPage.spareindex(1025)).isEqualTo(14);
        assertThat(HashPage.spareindex(1280)).isEqualTo(14);
        assertThat(HashPage.spareindex(1281)).isEqualTo(15);
        assertThat(HashPage.getTotalbuckets(3)).isEqualTo(8);
        assertThat(HashPage.getTotalbuckets(9)).isEqualTo(512);
        assertThat(HashPage.getTotalbuckets(10)).isEqualTo(640);
        assertThat(HashPage.getTotalbuckets(13)).isEqualTo(1024);
        // 2^10 + (2^10 / 4) * 1
        assertThat(HashPage.getTotalbuckets(14)).isEqualTo(1280);
        assertThat(HashPage.getTotalbuckets(17)).isEqualTo(2048);
    }

    @Test
    void metapageOfAThreeHundredRowBuildWithFillfactorTen() {
        byte[] p = new byte[BufPage.BLCKSZ];
        // ffactor = (8192 * 10 / 100) / 20 = 40; 300 / 40 = 7.5 -> phase 3 -> 8 buckets
        HashPage.initMetabuffer(p, 300, 450, 40);
        assertThat(HashPage.u32(p, HashPage.META_MAXBUCKET)).isEqualTo(7);
        assertThat(HashPage.u32(p, HashPage.META_HIGHMASK)).isEqualTo(15);
        assertThat(HashPage.u32(p, HashPage.META_LOWMASK)).isEqualTo(7);
        assertThat(HashPage.u32(p, HashPage.META_OVFLPOINT)).isEqualTo(3);
        assertThat(HashPage.u32(p, HashPage.spare(3))).isEqualTo(1);
        assertThat(BufPage.u16(p, HashPage.META_BSIZE)).isEqualTo(8152);
        assertThat(BufPage.u16(p, HashPage.META_BMSIZE)).isEqualTo(4096);
        assertThat(BufPage.u16(p, HashPage.META_BMSHIFT)).isEqualTo(15);
        assertThat(BufPage.lower(p)).isEqualTo(24 + 4544);
        assertThat(BufPage.special(p)).isEqualTo(8176);
        assertThat(HashPage.flag(p)).isEqualTo(HashPage.LH_META_PAGE);
        assertThat(BufPage.u16(p, 8190)).isEqualTo(0xFF80);
    }

    @Test
    void bitmapBitsAreLittleEndianWords() {
        byte[] p = new byte[BufPage.BLCKSZ];
        HashPage.initbitmapbuffer(p, 4096);
        assertThat(BufPage.lower(p)).isEqualTo(24 + 4096);
        HashPage.setBitmapBit(p, 37, false); // word 1, bit 5: byte 24 + 4, bit 5
        assertThat(p[28] & 0xFF).isEqualTo(0xFF & ~(1 << 5));
        HashPage.setBitmapBit(p, 37, true);
        assertThat(p[28] & 0xFF).isEqualTo(0xFF);
    }

    @Test
    void hashMaskHidesDeadHintsButNotTuples() {
        byte[] a = new byte[BufPage.BLCKSZ];
        HashPage.initbuf(a, 3, 3, HashPage.LH_BUCKET_PAGE);
        byte[] tuple = new byte[16];
        BufPage.putU16(tuple, 6, 16);
        tuple[8] = 42;
        BufPage.addItem(a, tuple, 0, 16, 1, 0);
        byte[] b = a.clone();
        BufPage.markDead(b, 1);
        HashPage.setFlag(b, HashPage.flag(b) | HashPage.LH_PAGE_HAS_DEAD_TUPLES);
        byte[] ma = a.clone();
        byte[] mb = b.clone();
        HashPage.mask(ma);
        HashPage.mask(mb);
        assertThat(ma).isEqualTo(mb);

        b[BufPage.lpOff(BufPage.itemId(b, 1)) + 8] = 43;
        mb = b.clone();
        HashPage.mask(mb);
        assertThat(PageMasks.firstDifference(ma, mb, 0, BufPage.BLCKSZ)).isEqualTo(BufPage.lpOff(BufPage.itemId(b, 1)) + 8);
    }

    @Test
    void anUnusedPageIsMaskedEntirely() {
        byte[] a = new byte[BufPage.BLCKSZ];
        HashPage.initbuf(a, 3, 3, HashPage.LH_BUCKET_PAGE);
        HashPage.setFlag(a, HashPage.LH_UNUSED_PAGE);
        byte[] b = a.clone();
        b[100] = 7;
        HashPage.setBucket(b, 9);
        HashPage.mask(a);
        HashPage.mask(b);
        assertThat(a).isEqualTo(b);
    }

    @Test
    void aCorruptedHashExpectationIsReported() throws Exception {
        Path f = RedoFixtureReplayTest.fixtures().stream()
                .filter(p -> p.getFileName().toString().startsWith("Hash_SPLIT_ALLOCATE_PAGE-"))
                .findFirst().orElseThrow();
        RedoFixture fixture;
        try (InputStream in = Files.newInputStream(f)) {
            fixture = RedoFixture.read(in);
        }
        assertThat(RedoVerifier.replay(fixture).mismatch()).isNull();
        // the metapage's hashm_maxbucket in PostgreSQL's image (block 2)
        byte[] image = fixture.record().block(2).image();
        image[HashPage.META_MAXBUCKET] ^= 0x01;
        RedoVerifier.Mismatch m = RedoVerifier.replay(fixture).mismatch();
        assertThat(m).isNotNull();
        assertThat(m.blockId()).isEqualTo(2);
        assertThat(m.offset()).isEqualTo(HashPage.META_MAXBUCKET);
    }
}
