package io.forkline.wal.ingest.rmgr;

/**
 * Where the flag byte sits in the main data of the heap / heap2 records that clear visibility map
 * bits, and which bits they clear ({@code src/include/access/heapam_xlog.h}; the redo routines
 * {@code heap_xlog_insert}, {@code heap_xlog_multi_insert}, {@code heap_xlog_update},
 * {@code heap_xlog_delete}, {@code heap_xlog_lock}, {@code heap_xlog_lock_updated} in
 * {@code src/backend/access/heap/heapam.c}):
 *
 * <pre>
 *   xl_heap_insert        offnum(2) flags(1)                                          flags @ 2
 *   xl_heap_multi_insert  flags(1) pad ntuples(2) offsets[]                           flags @ 0
 *   xl_heap_delete        xmax(4) offnum(2) infobits_set(1) flags(1)                  flags @ 7
 *   xl_heap_update        old_xmax(4) old_offnum(2) old_infobits_set(1) flags(1) ...  flags @ 7
 *   xl_heap_lock          locking_xid(4) offnum(2) infobits_set(1) flags(1)           flags @ 7
 *   xl_heap_lock_updated  xmax(4) offnum(2) infobits_set(1) flags(1)                  flags @ 7
 * </pre>
 */
public final class HeapRecordDescriptor {
    /** {@code XLOG_HEAP_OPMASK}: record type bits of heap and heap2 records. */
    public static final int OPMASK = 0x70;

    /** {@code XLOG_HEAP_INSERT} (rmgr Heap). */
    public static final int XLOG_HEAP_INSERT = 0x00;
    /** {@code XLOG_HEAP_DELETE} (rmgr Heap). */
    public static final int XLOG_HEAP_DELETE = 0x10;
    /** {@code XLOG_HEAP_UPDATE} (rmgr Heap). */
    public static final int XLOG_HEAP_UPDATE = 0x20;
    /** {@code XLOG_HEAP_HOT_UPDATE} (rmgr Heap). */
    public static final int XLOG_HEAP_HOT_UPDATE = 0x40;
    /** {@code XLOG_HEAP_LOCK} (rmgr Heap). */
    public static final int XLOG_HEAP_LOCK = 0x60;

    /** {@code XLOG_HEAP2_VISIBLE} (rmgr Heap2): sets visibility map bits; block 0 is the VM page. */
    public static final int XLOG_HEAP2_VISIBLE = 0x40;
    /** {@code XLOG_HEAP2_MULTI_INSERT} (rmgr Heap2). */
    public static final int XLOG_HEAP2_MULTI_INSERT = 0x50;
    /** {@code XLOG_HEAP2_LOCK_UPDATED} (rmgr Heap2). */
    public static final int XLOG_HEAP2_LOCK_UPDATED = 0x60;

    /** Offset of {@code xl_heap_insert.flags} in the main data, bytes. */
    public static final int INSERT_FLAGS_OFFSET = 2;
    /** Offset of {@code xl_heap_multi_insert.flags} in the main data, bytes. */
    public static final int MULTI_INSERT_FLAGS_OFFSET = 0;
    /** Offset of {@code xl_heap_delete.flags} in the main data, bytes. */
    public static final int DELETE_FLAGS_OFFSET = 7;
    /** Offset of {@code xl_heap_update.flags} in the main data, bytes. */
    public static final int UPDATE_FLAGS_OFFSET = 7;
    /** Offset of {@code xl_heap_lock.flags} / {@code xl_heap_lock_updated.flags} in the main data, bytes. */
    public static final int LOCK_FLAGS_OFFSET = 7;

    /** {@code XLH_INSERT_ALL_VISIBLE_CLEARED} (also multi-insert). */
    public static final int XLH_INSERT_ALL_VISIBLE_CLEARED = 1;
    /** {@code XLH_UPDATE_OLD_ALL_VISIBLE_CLEARED}. */
    public static final int XLH_UPDATE_OLD_ALL_VISIBLE_CLEARED = 1;
    /** {@code XLH_UPDATE_NEW_ALL_VISIBLE_CLEARED}. */
    public static final int XLH_UPDATE_NEW_ALL_VISIBLE_CLEARED = 1 << 1;
    /** {@code XLH_DELETE_ALL_VISIBLE_CLEARED}. */
    public static final int XLH_DELETE_ALL_VISIBLE_CLEARED = 1;
    /** {@code XLH_LOCK_ALL_FROZEN_CLEARED} (lock and lock-updated). */
    public static final int XLH_LOCK_ALL_FROZEN_CLEARED = 1;

    /** Block id of the heap page in {@code XLOG_HEAP2_VISIBLE} (block 0 is the VM page). */
    public static final int VISIBLE_HEAP_BLOCK_ID = 1;

    private HeapRecordDescriptor() {
    }

    /** The flag byte at {@code offset} of the main data. */
    public static int flags(byte[] mainData, int offset) {
        LittleEndianReader.require(mainData, offset, 1, "heap record flags");
        return mainData[offset] & 0xFF;
    }
}
