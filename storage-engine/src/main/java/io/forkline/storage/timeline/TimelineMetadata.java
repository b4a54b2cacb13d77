package io.forkline.storage.timeline;

import io.forkline.storage.id.TenantId;
import io.forkline.storage.id.TimelineId;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;

/**
 * The immutable description of a timeline (Neon's {@code TimelineMetadata}, fewer fields).
 *
 * @param id          this timeline
 * @param tenant      owning tenant
 * @param ancestor    parent timeline, or {@code null} for a tenant's first timeline
 * @param ancestorLsn branch point on the parent (WAL byte position); reads below this timeline's
 *                    own versions fall through to the parent at {@code min(lsn, ancestorLsn)};
 *                    {@link io.forkline.storage.lsn.Lsn#INVALID} without ancestor
 * @param startLsn    first readable LSN: the ancestor LSN, or the initdb checkpoint LSN of a root
 * @param pgVersion   PostgreSQL major version of the cluster (15)
 * @param createdAt   creation time
 */
public record TimelineMetadata(TimelineId id, TenantId tenant, TimelineId ancestor, long ancestorLsn, long startLsn,
                               int pgVersion, Instant createdAt) {
    private static final int FORMAT_VERSION = 1;

    /** Serializes to Forkline's own versioned binary form. */
    public byte[] encode() {
        try {
            ByteArrayOutputStream bos = new ByteArrayOutputStream();
            DataOutputStream out = new DataOutputStream(bos);
            out.writeByte(FORMAT_VERSION);
            out.write(id.bytes());
            out.writeUTF(tenant.name());
            out.writeBoolean(ancestor != null);
            if (ancestor != null) {
                out.write(ancestor.bytes());
            }
            out.writeLong(ancestorLsn);
            out.writeLong(startLsn);
            out.writeInt(pgVersion);
            out.writeLong(createdAt.getEpochSecond());
            out.writeInt(createdAt.getNano());
            return bos.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * @throws IllegalStateException when the bytes are not a known format version
     */
    public static TimelineMetadata decode(byte[] bytes) {
        try {
            DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes));
            int v = in.readByte();
            if (v != FORMAT_VERSION) {
                throw new IllegalStateException("unknown timeline metadata format version " + v);
            }
            byte[] id = in.readNBytes(TimelineId.LENGTH);
            TenantId tenant = new TenantId(in.readUTF());
            TimelineId ancestor = in.readBoolean() ? new TimelineId(in.readNBytes(TimelineId.LENGTH)) : null;
            long ancestorLsn = in.readLong();
            long startLsn = in.readLong();
            int pgVersion = in.readInt();
            Instant created = Instant.ofEpochSecond(in.readLong(), in.readInt());
            return new TimelineMetadata(new TimelineId(id), tenant, ancestor, ancestorLsn, startLsn, pgVersion, created);
        } catch (IOException e) {
            throw new IllegalStateException("corrupt timeline metadata", e);
        }
    }
}
