package io.forkline.pageserver.access;

import io.forkline.compute.proxy.ScramVerifier;

import java.security.SecureRandom;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * New random passwords with their SCRAM-SHA-256 verifiers, made ahead of time on a background
 * (virtual) thread. A verifier costs PBKDF2 with PostgreSQL's 4096 iterations ({@link ScramVerifier},
 * {@code scram_iterations} default): about 3 ms of CPU, most of a branch create handler's CPU samples
 * (benchmarks README 8e); taking a ready pair moves it off the request path without weakening the
 * verifier. When none is ready (a burst of creates), one is made on the caller's
 * thread. Each pair is handed out once. Thread-safe.
 */
final class ReadyPasswords {
    /** Pairs kept ready. */
    static final int CAPACITY = 4;

    /** A password and its verifier. */
    record Pair(String password, ScramVerifier verifier) {
    }

    private final SecureRandom random;
    private final BlockingQueue<Pair> ready = new ArrayBlockingQueue<>(CAPACITY);
    private final AtomicBoolean refilling = new AtomicBoolean();

    ReadyPasswords(SecureRandom random) {
        this.random = random;
    }

    /** A fresh pair (never handed out before); starts making the next ones in the background. */
    Pair take() {
        Pair p = ready.poll();
        if (p == null) {
            p = make();
        }
        refill();
        return p;
    }

    /** Pairs ready now. */
    int readyCount() {
        return ready.size();
    }

    /** Starts filling the pool in the background unless that runs already. */
    void refill() {
        if (ready.remainingCapacity() == 0 || !refilling.compareAndSet(false, true)) {
            return;
        }
        Thread.ofVirtual().name("forkline-ready-passwords").start(() -> {
            try {
                while (ready.remainingCapacity() > 0) {
                    if (!ready.offer(make())) {
                        break;
                    }
                }
            } finally {
                refilling.set(false);
            }
        });
    }

    private Pair make() {
        String password = Credentials.newPassword();
        return new Pair(password, ScramVerifier.create(password.toCharArray(), random));
    }
}
