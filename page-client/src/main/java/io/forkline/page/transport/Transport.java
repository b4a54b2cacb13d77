package io.forkline.page.transport;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.ServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;

import java.util.Locale;

/**
 * The Netty transport the page service, its client and the page benchmarks use: Linux's native
 * epoll ({@code netty-transport-native-epoll}, linux-x86_64) when it loads, else Java NIO. One
 * choice per process, made at first use; system property {@code forkline.transport=nio} (or
 * environment variable {@code FORKLINE_TRANSPORT=nio}) forces NIO, e.g. to compare the two.
 *
 * <p>Epoll saves, per socket read or write, the JDK selector's bookkeeping and a copy through a
 * direct buffer cache; with edge-triggered readiness a busy connection needs fewer
 * {@code epoll_wait} calls. Event loop groups and channel classes must come from the same
 * transport: take all three from here.
 *
 * <p>Thread-safe (immutable after class initialization).
 */
public enum Transport {
    /** Linux epoll through Netty's JNI library. */
    EPOLL,
    /** Java NIO (any platform). */
    NIO;

    private static final Transport CHOSEN = choose();

    private static Transport choose() {
        String forced = System.getProperty("forkline.transport", System.getenv("FORKLINE_TRANSPORT"));
        if (forced != null && forced.trim().toLowerCase(Locale.ROOT).equals("nio")) {
            return NIO;
        }
        try {
            return Epoll.isAvailable() ? EPOLL : NIO;
        } catch (Throwable t) { // LinkageError of the native library: NIO works everywhere
            return NIO;
        }
    }

    /** The transport of this process: {@link #EPOLL} when available and not forced off, else {@link #NIO}. */
    public static Transport chosen() {
        return CHOSEN;
    }

    /** The factory of this transport's I/O handlers. */
    public IoHandlerFactory ioHandlerFactory() {
        return this == EPOLL ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
    }

    /**
     * A new event loop group of this transport.
     *
     * @param threads event loop threads; 0 = Netty's default (2 x available processors)
     */
    public EventLoopGroup newGroup(int threads) {
        return new MultiThreadIoEventLoopGroup(threads, ioHandlerFactory());
    }

    /**
     * As {@link #newGroup(int)}, with threads named {@code name-N-M} (so profiles and per-thread CPU
     * accounting can tell the page service's loops from its clients').
     *
     * @param threads event loop threads; 0 = Netty's default (2 x available processors)
     * @param name    thread name prefix, e.g. {@code "forkline-page-io"}
     */
    public EventLoopGroup newGroup(int threads, String name) {
        return new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory(name), ioHandlerFactory());
    }

    /** The client socket channel class for groups of {@link #newGroup}. */
    public Class<? extends SocketChannel> socketChannel() {
        return this == EPOLL ? EpollSocketChannel.class : NioSocketChannel.class;
    }

    /** The server socket channel class for groups of {@link #newGroup}. */
    public Class<? extends ServerSocketChannel> serverSocketChannel() {
        return this == EPOLL ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
    }

    /** "epoll" or "nio". */
    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
