package io.forkline.wal.redo;

import org.junit.jupiter.api.Test;
import static org.assertj.core.api.Assertions.assertThat;

/** The strict visibility map comparison of verify mode ({@link PageMasks#strictVmDifference}). */
class PageMasksTest {
    private static final int HEADER = BufPage.HEADER_SIZE;

    private static byte[] vmPage() {
        byte[] p = new byte[BufPage.BLCKSZ];
        BufPage.init(p, 0);
        return p;
    }

    @Test
    void aBitClearedByALaterRecordOfAnotherHeapBlockIsAccepted() {
        byte[] redone = vmPage();
        byte[] image = vmPage();
        redone[HEADER + 4] = 0x55; // heap blocks 16..19 all-visible
        image[HEADER + 4] = 0x51;  // PostgreSQL already cleared block 17 (its record comes later)
        assertThat(PageMasks.strictVmDifference(redone, image, 0, 59)).isEqualTo(-1);
    }

    @Test
    void aBitPostgresSetThatRedoLacksIsAMismatch() {
        byte[] redone = vmPage();
        byte[] image = vmPage();
        redone[HEADER + 4] = 0x51;
        image[HEADER + 4] = 0x55;
        assertThat(PageMasks.strictVmDifference(redone, image, 0, 59)).isEqualTo(HEADER + 4);
    }

    @Test
    void theRecordsOwnHeapBlockMustMatchExactly() {
        byte[] redone = vmPage();
        byte[] image = vmPage();
        redone[HEADER + 4] = 0x55;
        image[HEADER + 4] = 0x51;
        assertThat(PageMasks.strictVmDifference(redone, image, 0, 17)).isEqualTo(HEADER + 4);
        // the same byte on the second map page covers heap blocks 32672 + 16..19
        assertThat(PageMasks.strictVmDifference(redone, image, 1, 17)).isEqualTo(-1);
        assertThat(PageMasks.strictVmDifference(redone, image, 1, PageMasks.HEAPBLOCKS_PER_VM_PAGE + 17))
                .isEqualTo(HEADER + 4);
    }
}
