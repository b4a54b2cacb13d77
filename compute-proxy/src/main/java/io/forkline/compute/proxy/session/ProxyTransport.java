package io.forkline.compute.proxy.session;

import io.forkline.compute.proxy.ComputeAddress;
import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioDomainSocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.util.Locale;

/**
 * The proxy's Netty transport: Linux epoll when it loads (as the page service), else Java NIO;
 * system property {@code forkline.transport=nio} (or {@code FORKLINE_TRANSPORT=nio}) forces NIO.
 * Client channels, TCP and Unix-domain channels to computes all come from one event loop group, so
 * a session's two channels share one event loop thread. Thread-safe (immutable).
 */
public enum ProxyTransport {
    EPOLL, NIO;

    private static final ProxyTransport CHOSEN = choose();

    private static ProxyTransport choose() {
        String forced = System.getProperty("forkline.transport", System.getenv("FORKLINE_TRANSPORT"));
        if (forced != null && forced.trim().toLowerCase(Locale.ROOT).equals("nio")) {
            return NIO;
        }
        try {
            return Epoll.isAvailable() ? EPOLL : NIO;
        } catch (Throwable t) { // the native library did not link: NIO works everywhere
            return NIO;
        }
    }

    /** The transport of this process. */
    public static ProxyTransport chosen() {
        return CHOSEN;
    }

    /** A new event loop group; {@code threads} 0 = Netty's default. */
    public EventLoopGroup newGroup(int threads) {
        return new MultiThreadIoEventLoopGroup(threads, this == EPOLL ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
    }

    /** The listening channel class. */
    public Class<? extends ServerChannel> serverChannel() {
        return this == EPOLL ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
    }

    /** The channel class that reaches {@code address} (TCP or Unix-domain socket). */
    public Class<? extends Channel> channelFor(ComputeAddress address) {
        if (address.isUnix()) {
            return this == EPOLL ? EpollDomainSocketChannel.class : NioDomainSocketChannel.class;
        }
        return this == EPOLL ? EpollSocketChannel.class : NioSocketChannel.class;
    }

    /** The socket address of {@code address} for {@link #channelFor}'s channel. */
    public SocketAddress socketAddress(ComputeAddress address) {
        if (address.isUnix()) {
            return this == EPOLL ? new DomainSocketAddress(address.unixSocket().toFile())
                    : UnixDomainSocketAddress.of(address.unixSocket());
        }
        return new InetSocketAddress(address.host(), address.port());
    }

    /**
     * {@code bootstrap.connect} to {@code address}; for an address in a compute's network namespace
     * the channel's socket is created inside it ({@link io.forkline.compute.netns.NetNamespace#call}:
     * Netty creates the socket on the calling thread, and a socket keeps its namespace), the connect
     * itself then runs on the channel's event loop as always.
     */
    public io.netty.channel.ChannelFuture connect(io.netty.bootstrap.Bootstrap bootstrap, ComputeAddress address) {
        SocketAddress target = socketAddress(address);
        return address.netns() == null ? bootstrap.connect(target) : address.netns().call(() -> bootstrap.connect(target));
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
