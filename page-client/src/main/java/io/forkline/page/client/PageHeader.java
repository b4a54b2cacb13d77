package io.forkline.page.client;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * The header of an 8192-byte PostgreSQL page and its line pointers, as operators read them
 * ({@code forkline page get} without {@code --out}). Layout from {@code src/include/storage/bufpage.h}
 * ({@code PageHeaderData}) and {@code src/include/storage/itemid.h} ({@code ItemIdData}), in the
 * byte order of the machines PostgreSQL runs on here (little-endian):
 *
 * <pre>
 *   offset  size  field
 *        0     8  pd_lsn (xlogid uint32, xrecoff uint32)
 *        8     2  pd_checksum
 *       10     2  pd_flags
 *       12     2  pd_lower      end of the line pointer array
 *       14     2  pd_upper      start of tuple space
 *       16     2  pd_special    start of the special space
 *       18     2  pd_pagesize_version
 *       20     4  pd_prune_xid
 *       24  4*n  ItemIdData[n]: lp_off (15 bits) | lp_flags (2 bits) | lp_len (15 bits)
 * </pre>
 *
 * @param lsn          pd_lsn as a 64-bit WAL position
 * @param checksum     pd_checksum
 * @param flags        pd_flags
 * @param lower        pd_lower, bytes
 * @param upper        pd_upper, bytes
 * @param special      pd_special, bytes
 * @param pageSize     page size from pd_pagesize_version
 * @param layoutVersion layout version from pd_pagesize_version (4 for PostgreSQL 8.3+)
 * @param pruneXid     pd_prune_xid
 * @param linePointers the line pointers between byte 24 and pd_lower
 */
public record PageHeader(long lsn, int checksum, int flags, int lower, int upper, int special, int pageSize,
                         int layoutVersion, long pruneXid, List<LinePointer> linePointers) {
    /** {@code SizeOfPageHeaderData}. */
    public static final int SIZE = 24;

    /**
     * One {@code ItemIdData}.
     *
     * @param offset lp_off, bytes from the page start
     * @param flags  lp_flags: 0 unused, 1 normal, 2 redirect, 3 dead
     * @param length lp_len, bytes
     */
    public record LinePointer(int offset, int flags, int length) {
        /** The flag's name as in itemid.h. */
        public String flagName() {
            return switch (flags) {
                case 0 -> "LP_UNUSED";
                case 1 -> "LP_NORMAL";
                case 2 -> "LP_REDIRECT";
                default -> "LP_DEAD";
            };
        }
    }

    /**
     * Decodes the header of {@code page}.
     *
     * @throws IllegalArgumentException when the page is not 8192 bytes
     */
    public static PageHeader decode(byte[] page) {
        if (page.length != 8192) {
            throw new IllegalArgumentException("a page has 8192 bytes, got " + page.length);
        }
        ByteBuffer b = ByteBuffer.wrap(page).order(ByteOrder.LITTLE_ENDIAN);
        long lsn = (Integer.toUnsignedLong(b.getInt(0)) << 32) | Integer.toUnsignedLong(b.getInt(4));
        int lower = Short.toUnsignedInt(b.getShort(12));
        int psv = Short.toUnsignedInt(b.getShort(18));
        List<LinePointer> lps = new ArrayList<>();
        for (int off = SIZE; off + 4 <= Math.min(lower, page.length); off += 4) {
            int v = b.getInt(off);
            lps.add(new LinePointer(v & 0x7FFF, (v >>> 15) & 0x3, (v >>> 17) & 0x7FFF));
        }
        return new PageHeader(lsn, Short.toUnsignedInt(b.getShort(8)), Short.toUnsignedInt(b.getShort(10)), lower,
                Short.toUnsignedInt(b.getShort(14)), Short.toUnsignedInt(b.getShort(16)), psv & 0xFF00, psv & 0x00FF,
                Integer.toUnsignedLong(b.getInt(20)), List.copyOf(lps));
    }

    /** Whether the page is all zeros (a new or never-written page). */
    public static boolean isZero(byte[] page) {
        for (byte x : page) {
            if (x != 0) {
                return false;
            }
        }
        return true;
    }
}
