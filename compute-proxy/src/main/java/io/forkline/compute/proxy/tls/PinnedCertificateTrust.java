package io.forkline.compute.proxy.tls;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedTrustManager;
import java.io.IOException;
import java.net.Socket;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;

/**
 * A TLS client's trust in exactly one server certificate (pinning): the handshake succeeds only
 * when the server presents that certificate, within its validity; anything else fails with a
 * {@link CertificateException} naming both SHA-256 fingerprints. Used for a compute node, whose
 * certificate is self-signed (it makes it at first start, {@code <node dir>/tls/compute.crt}) and
 * given to the server by file: the pin is stronger than a CA plus a host name (no other
 * certificate, whoever issued it, passes), so no host name is checked (JSSE leaves endpoint
 * identification to an {@link X509ExtendedTrustManager}). Clients only: it trusts no client.
 */
public final class PinnedCertificateTrust extends X509ExtendedTrustManager {
    private final X509Certificate pinned;
    private final String fingerprint;

    /** Trusts exactly {@code pinned}. */
    public PinnedCertificateTrust(X509Certificate pinned) {
        this.pinned = pinned;
        this.fingerprint = PemFiles.sha256Fingerprint(pinned);
    }

    /**
     * A client context that trusts only the certificate in {@code certificateFile} (PEM).
     *
     * @throws IOException naming the file when it cannot be read
     */
    public static SSLContext clientContext(Path certificateFile) throws IOException {
        try {
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, new TrustManager[]{new PinnedCertificateTrust(PemFiles.certificate(certificateFile))}, null);
            return ctx;
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot make a TLS context pinned to " + certificateFile + ": " + e.getMessage(), e);
        }
    }

    /** The pinned certificate's SHA-256 fingerprint ({@code AB:CD:...}). */
    public String fingerprint() {
        return fingerprint;
    }

    private void check(X509Certificate[] chain) throws CertificateException {
        if (chain == null || chain.length == 0) {
            throw new CertificateException("the server presented no certificate; expected SHA-256 " + fingerprint);
        }
        if (!chain[0].equals(pinned)) {
            throw new CertificateException("the server presented certificate SHA-256 " + PemFiles.sha256Fingerprint(chain[0])
                    + " (" + chain[0].getSubjectX500Principal() + "), not the pinned " + fingerprint);
        }
        pinned.checkValidity();
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        check(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        check(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        check(chain);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        throw new CertificateException("a pinned server certificate trusts no client");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        throw new CertificateException("a pinned server certificate trusts no client");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        throw new CertificateException("a pinned server certificate trusts no client");
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return new X509Certificate[]{pinned};
    }
}
