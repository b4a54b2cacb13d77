package io.forkline.wal.ingest.slru;

import io.forkline.wal.record.XLogRecordBlockDescriptor;

/**
 * Layout of the multixact SLRUs ({@code src/backend/access/transam/multixact.c}, PostgreSQL 15,
 * 32-bit offsets). Pages are 8192 bytes without header; values are little-endian.
 *
 * <p>{@code pg_multixact/offsets}: one uint32 member offset per MultiXactId, 2048 per page:
 * <pre>
 *   | offset(mxid 0) | offset(mxid 1) | ... | offset(mxid 2047) |
 * </pre>
 *
 * <p>{@code pg_multixact/members}: groups of 4 members, 409 groups (8180 bytes) per page, the last
 * 12 bytes unused; each group is 4 flag bytes (the status of member k in byte k, i.e. bits
 * {@code 8k..8k+7} of a little-endian uint32) followed by the 4 member xids:
 * <pre>
 *   group: | flags m0 | flags m1 | flags m2 | flags m3 | xid m0 (4) | xid m1 (4) | xid m2 (4) | xid m3 (4) |
 * </pre>
 * Member offsets and MultiXactIds are unsigned 32-bit values carried in {@code int}.
 */
public final class MultiXactDescriptor {
    /** SLRU page size, bytes ({@code BLCKSZ}, {@link XLogRecordBlockDescriptor#BLCKSZ}). */
    public static final int PAGE_SIZE = XLogRecordBlockDescriptor.BLCKSZ;
    /** {@code MULTIXACT_OFFSETS_PER_PAGE}. */
    public static final int OFFSETS_PER_PAGE = PAGE_SIZE / 4;
    /** {@code MULTIXACT_FLAGBYTES_PER_GROUP}. */
    public static final int FLAGBYTES_PER_GROUP = 4;
    /** {@code MULTIXACT_MEMBERS_PER_MEMBERGROUP}. */
    public static final int MEMBERS_PER_GROUP = 4;
    /** {@code MULTIXACT_MEMBERGROUP_SIZE} = 20. */
    public static final int GROUP_SIZE = 4 * MEMBERS_PER_GROUP + FLAGBYTES_PER_GROUP;
    /** {@code MULTIXACT_MEMBERGROUPS_PER_PAGE} = 409. */
    public static final int GROUPS_PER_PAGE = PAGE_SIZE / GROUP_SIZE;
    /** {@code MULTIXACT_MEMBERS_PER_PAGE} = 1636. */
    public static final int MEMBERS_PER_PAGE = GROUPS_PER_PAGE * MEMBERS_PER_GROUP;
    /** {@code MXACT_MEMBER_BITS_PER_XACT}. */
    public static final int MEMBER_BITS_PER_XACT = 8;
    /** {@code FirstMultiXactId}. */
    public static final int FIRST_MULTIXACT_ID = 1;

    private MultiXactDescriptor() {
    }

    /** {@code MultiXactIdToOffsetPage}. */
    public static int offsetPage(int multi) {
        return Integer.divideUnsigned(multi, OFFSETS_PER_PAGE);
    }

    /** Byte position of the offset entry ({@code MultiXactIdToOffsetEntry * 4}). */
    public static int offsetEntryByte(int multi) {
        return Integer.remainderUnsigned(multi, OFFSETS_PER_PAGE) * 4;
    }

    /** {@code MXOffsetToMemberPage}. */
    public static int memberPage(int offset) {
        return Integer.divideUnsigned(offset, MEMBERS_PER_PAGE);
    }

    /** {@code MXOffsetToFlagsOffset}: byte position of the member's group flag word. */
    public static int flagsOffset(int offset) {
        return Integer.remainderUnsigned(Integer.divideUnsigned(offset, MEMBERS_PER_GROUP), GROUPS_PER_PAGE)
                * GROUP_SIZE;
    }

    /** {@code MXOffsetToFlagsBitShift}: bit shift of the member's status in the flag word. */
    public static int flagsBitShift(int offset) {
        return Integer.remainderUnsigned(offset, MEMBERS_PER_GROUP) * MEMBER_BITS_PER_XACT;
    }

    /** {@code MXOffsetToMemberOffset}: byte position of the member's xid. */
    public static int memberOffset(int offset) {
        return flagsOffset(offset) + FLAGBYTES_PER_GROUP + Integer.remainderUnsigned(offset, MEMBERS_PER_GROUP) * 4;
    }

    /**
     * The MultiXactId that follows {@code multi}, skipping the invalid id 0 on wraparound (as
     * {@code RecordNewMultiXact} computes {@code next}).
     */
    public static int nextMulti(int multi) {
        int next = multi + 1;
        return Integer.compareUnsigned(next, FIRST_MULTIXACT_ID) < 0 ? FIRST_MULTIXACT_ID : next;
    }
}
