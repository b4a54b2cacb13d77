package io.forkline.compute.proxy.cancel;

import io.forkline.compute.proxy.ComputeAddress;

import java.security.SecureRandom;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The proxy's cancel keys: each session's client gets a proxy-issued (pid, secret) in its
 * BackendKeyData instead of the compute's; a CancelRequest with that key is forwarded to the
 * compute with the real one. Keys are random (the pid positive, as PostgreSQL's), unique among
 * live sessions, and forgotten when the session closes. Thread-safe.
 */
public final class CancelKeys {
    /**
     * Where a key's cancel goes.
     *
     * @param address the compute
     * @param pid     the compute backend's process id
     * @param secret  the compute backend's secret key
     */
    public record Target(ComputeAddress address, int pid, int secret) {
    }

    /** A proxy-issued key. */
    public record Key(int pid, int secret) {
        long packed() {
            return ((long) pid << 32) | (secret & 0xffffffffL);
        }
    }

    private final Map<Long, Target> targets = new ConcurrentHashMap<>();
    private final SecureRandom random = new SecureRandom();

    /** Issues a new key for {@code target}. */
    public Key issue(Target target) {
        while (true) {
            Key key = new Key(1 + random.nextInt(Integer.MAX_VALUE - 1), random.nextInt());
            if (targets.putIfAbsent(key.packed(), target) == null) {
                return key;
            }
        }
    }

    /** The target of {@code (pid, secret)}, or {@code null} when no live session has that key. */
    public Target lookup(int pid, int secret) {
        return targets.get(new Key(pid, secret).packed());
    }

    /** Forgets {@code key} (its session closed). */
    public void remove(Key key) {
        targets.remove(key.packed());
    }

    /** Live keys. */
    public int size() {
        return targets.size();
    }
}
