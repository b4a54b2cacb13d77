package io.forkline.compute.proxy.tls;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.HexFormat;

/**
 * PEM files (RFC 7468) as the JDK's TLS classes take them: an X.509 certificate
 * ({@code -----BEGIN CERTIFICATE-----}), a PKCS#8 private key ({@code -----BEGIN PRIVATE KEY-----},
 * EC or RSA), a server {@link SSLContext} from the two, and a certificate's SHA-256 fingerprint.
 * What {@link SelfSignedCertificate} and {@link ComputeClientTls} write.
 */
public final class PemFiles {
    private PemFiles() {
    }

    /**
     * The first certificate in a PEM file.
     *
     * @throws IOException naming the file when it cannot be read or holds no certificate
     */
    public static X509Certificate certificate(Path file) throws IOException {
        byte[] der = block(file, "CERTIFICATE");
        try {
            return (X509Certificate) CertificateFactory.getInstance("X.509")
                    .generateCertificate(new ByteArrayInputStream(der));
        } catch (GeneralSecurityException e) {
            throw new IOException("not an X.509 certificate: " + file + " (" + e.getMessage() + ")", e);
        }
    }

    /**
     * The PKCS#8 private key in a PEM file (EC, else RSA).
     *
     * @throws IOException naming the file when it cannot be read or holds no such key
     */
    public static PrivateKey privateKey(Path file) throws IOException {
        PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(block(file, "PRIVATE KEY"));
        for (String algorithm : new String[]{"EC", "RSA"}) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(spec);
            } catch (GeneralSecurityException e) {
                // try the next algorithm
            }
        }
        throw new IOException("not a PKCS#8 EC or RSA private key: " + file);
    }

    /**
     * A TLS server context presenting {@code certificate} with {@code key} (TLS 1.2 and 1.3).
     *
     * @throws IOException naming the files when they cannot be loaded
     */
    public static SSLContext serverContext(Path certificate, Path key) throws IOException {
        try {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            char[] none = new char[0];
            ks.setKeyEntry("server", privateKey(key), none, new X509Certificate[]{certificate(certificate)});
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(ks, none);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(kmf.getKeyManagers(), null, null);
            return ctx;
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot use certificate " + certificate + " with key " + key + ": " + e.getMessage(), e);
        }
    }

    /** The SHA-256 fingerprint of a certificate's DER encoding, as {@code AB:CD:...} (what {@code openssl x509 -fingerprint -sha256} prints). */
    public static String sha256Fingerprint(X509Certificate certificate) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(certificate.getEncoded());
            return HexFormat.ofDelimiter(":").withUpperCase().formatHex(d);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("SHA-256 or the certificate's encoding is unavailable", e);
        }
    }

    private static byte[] block(Path file, String type) throws IOException {
        String text = Files.readString(file, StandardCharsets.US_ASCII);
        String begin = "-----BEGIN " + type + "-----";
        String end = "-----END " + type + "-----";
        int b = text.indexOf(begin);
        int e = b < 0 ? -1 : text.indexOf(end, b);
        if (b < 0 || e < 0) {
            throw new IOException("no " + begin + " block in " + file);
        }
        try {
            return Base64.getMimeDecoder().decode(text.substring(b + begin.length(), e));
        } catch (IllegalArgumentException ex) {
            throw new IOException("bad base64 in the " + type + " block of " + file, ex);
        }
    }
}
