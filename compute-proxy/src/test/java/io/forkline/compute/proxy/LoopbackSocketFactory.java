package io.forkline.compute.proxy;

import javax.net.SocketFactory;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketAddress;

/**
 * pgjdbc {@code socketFactory} that connects every host name to 127.0.0.1 (the port kept), so a URL
 * with host {@code <endpoint-id>.localhost} reaches the proxy and pgjdbc still sends that name as
 * TLS SNI (libpq's {@code hostaddr} does the same for psql).
 */
public final class LoopbackSocketFactory extends SocketFactory {
    @Override
    public Socket createSocket() {
        return new Socket() {
            @Override
            public void connect(SocketAddress endpoint, int timeout) throws IOException {
                super.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), ((InetSocketAddress) endpoint).getPort()), timeout);
            }
        };
    }

    @Override
    public Socket createSocket(String host, int port) throws IOException {
        return new Socket(InetAddress.getLoopbackAddress(), port);
    }

    @Override
    public Socket createSocket(String host, int port, InetAddress localHost, int localPort) throws IOException {
        return new Socket(InetAddress.getLoopbackAddress(), port, localHost, localPort);
    }

    @Override
    public Socket createSocket(InetAddress host, int port) throws IOException {
        return new Socket(InetAddress.getLoopbackAddress(), port);
    }

    @Override
    public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort) throws IOException {
        return new Socket(InetAddress.getLoopbackAddress(), port, localAddress, localPort);
    }
}
