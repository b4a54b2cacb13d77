package io.forkline.compute.lazy;

import org.cryptomator.jfuse.api.Errno;

import java.lang.reflect.Proxy;

/** Test helper: jfuse's {@link Errno} with Linux's numbers (asm-generic/errno-base.h), without a mounted file system. */
final class TestErrno {
    private TestErrno() {
    }

    /** ENOENT 2, EIO 5, EEXIST 17, ENOTDIR 20, EISDIR 21, ENOTEMPTY 39; EINVAL 22 for anything else. */
    static Errno linux() {
        return (Errno) Proxy.newProxyInstance(Errno.class.getClassLoader(), new Class<?>[]{Errno.class},
                (p, m, a) -> switch (m.getName()) {
                    case "enoent" -> 2;
                    case "eio" -> 5;
                    case "eexist" -> 17;
                    case "enotdir" -> 20;
                    case "eisdir" -> 21;
                    case "enotempty" -> 39;
                    default -> 22;
                });
    }
}
