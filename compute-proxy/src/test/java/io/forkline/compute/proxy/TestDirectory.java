package io.forkline.compute.proxy;

import java.security.SecureRandom;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * A real, in-memory {@link ComputeDirectory} for the proxy's tests: endpoint ids mapped to a
 * verifier of their password and the address of a running PostgreSQL; counts wakes and sessions.
 */
final class TestDirectory implements ComputeDirectory {
    private final Map<String, Endpoint> endpoints = new ConcurrentHashMap<>();
    private final Map<String, ComputeAddress> addresses = new ConcurrentHashMap<>();
    final Map<String, AtomicInteger> opened = new ConcurrentHashMap<>();
    final Map<String, AtomicInteger> closed = new ConcurrentHashMap<>();
    final AtomicInteger wakes = new AtomicInteger();
    /** When set, wake answers with this instead of the address. */
    volatile Function<String, CompletableFuture<ComputeAddress>> wakeOverride;

    void add(String id, String password, ComputeAddress address) {
        endpoints.put(id, new Endpoint(id, "tenant-" + id, "main", ScramVerifier.create(password.toCharArray(), new SecureRandom())));
        addresses.put(id, address);
    }

    @Override
    public Endpoint lookup(String endpointId) {
        return endpoints.get(endpointId);
    }

    @Override
    public CompletableFuture<ComputeAddress> wake(String endpointId) {
        wakes.incrementAndGet();
        Function<String, CompletableFuture<ComputeAddress>> o = wakeOverride;
        if (o != null) {
            return o.apply(endpointId);
        }
        ComputeAddress a = addresses.get(endpointId);
        return a == null ? CompletableFuture.failedFuture(new WakeException("no compute for " + endpointId))
                : CompletableFuture.completedFuture(a);
    }

    @Override
    public void sessionOpened(String endpointId) {
        opened.computeIfAbsent(endpointId, k -> new AtomicInteger()).incrementAndGet();
    }

    @Override
    public void sessionClosed(String endpointId) {
        closed.computeIfAbsent(endpointId, k -> new AtomicInteger()).incrementAndGet();
    }

    int opened(String id) {
        AtomicInteger n = opened.get(id);
        return n == null ? 0 : n.get();
    }

    int closed(String id) {
        AtomicInteger n = closed.get(id);
        return n == null ? 0 : n.get();
    }

    int totalOpened() {
        return opened.values().stream().mapToInt(AtomicInteger::get).sum();
    }

    int totalClosed() {
        return closed.values().stream().mapToInt(AtomicInteger::get).sum();
    }
}
