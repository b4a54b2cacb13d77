package io.forkline.compute.proxy.tls;

import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;

/**
 * The server's TLS client certificate for the computes of compute nodes, which accept TCP
 * connections only over TLS with a client certificate issued by the server's own certificate
 * authority ({@code pg_hba.conf}: {@code hostssl ... trust clientcert=verify-ca}, PostgreSQL 15's
 * {@code src/backend/libpq/hba.c}; the CA certificate is the compute's {@code ssl_ca_file}).
 *
 * <p>Files in one directory (made by {@link #ensure} with BouncyCastle on first use, ECDSA P-256,
 * valid 10 years, reused later; delete the directory to rotate): {@value #CA_FILE} (the CA's
 * certificate, PEM; the CA's private key is discarded once it signed the client certificate, so
 * nothing can issue another), {@value #CERT_FILE} (subject {@code CN=forkline-server}, extended key
 * usage clientAuth, PEM), {@value #KEY_FILE} (its PKCS#8 key, PEM, mode 0600, for libpq tools) and
 * {@value #KEY_DER_FILE} (the same key, DER, mode 0600, for pgjdbc's {@code sslkey}).
 *
 * <p>The compute's own certificate is its node's (self-signed, made by the node): once the server
 * knows it ({@link #verifyingServer}, the file given as {@code --compute-node-cert}, which the
 * node's HTTPS API also presents), every client verifies it ({@code sslmode=verify-ca} with it as
 * the root for libpq and pgjdbc, a pinned trust manager for the proxy's Netty client); without it
 * the connection is encrypted and the compute authenticates the server, but not the other way.
 *
 * @param caCertificate     {@value #CA_FILE}
 * @param certificate       {@value #CERT_FILE}
 * @param key               {@value #KEY_FILE}
 * @param keyDer            {@value #KEY_DER_FILE}
 * @param serverCertificate the computes' certificate (PEM) that clients verify, or {@code null}: not verified
 */
public record ComputeClientTls(Path caCertificate, Path certificate, Path key, Path keyDer, Path serverCertificate) {
    public static final String CA_FILE = "compute-client-ca.crt";
    public static final String CERT_FILE = "compute-client.crt";
    public static final String KEY_FILE = "compute-client.key";
    public static final String KEY_DER_FILE = "compute-client.pk8";
    private static final Duration VALIDITY = Duration.ofDays(3650);

    /**
     * The files in {@code dir}, made first when any is missing.
     *
     * @throws IOException naming the directory when they cannot be made or written
     */
    public static ComputeClientTls ensure(Path dir) throws IOException {
        ComputeClientTls tls = new ComputeClientTls(dir.resolve(CA_FILE), dir.resolve(CERT_FILE), dir.resolve(KEY_FILE),
                dir.resolve(KEY_DER_FILE), null);
        if (Files.isRegularFile(tls.caCertificate) && Files.isRegularFile(tls.certificate) && Files.isRegularFile(tls.key)
                && Files.isRegularFile(tls.keyDer)) {
            return tls;
        }
        Files.createDirectories(dir);
        try {
            SecureRandom random = new SecureRandom();
            KeyPairGenerator gen = KeyPairGenerator.getInstance("EC");
            gen.initialize(new ECGenParameterSpec("secp256r1"), random);
            KeyPair ca = gen.generateKeyPair();
            KeyPair client = gen.generateKeyPair();
            Instant now = Instant.now();
            Date from = Date.from(now.minus(Duration.ofDays(1)));
            Date to = Date.from(now.plus(VALIDITY));
            X500Name caName = new X500Name("CN=forkline-compute-client-ca");
            JcaX509v3CertificateBuilder caBuilder = new JcaX509v3CertificateBuilder(caName,
                    new BigInteger(64, random), from, to, caName, ca.getPublic());
            caBuilder.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
            caBuilder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
            var signer = new JcaContentSignerBuilder("SHA256withECDSA").build(ca.getPrivate());
            X509CertificateHolder caCert = caBuilder.build(signer);
            JcaX509v3CertificateBuilder leaf = new JcaX509v3CertificateBuilder(caName, new BigInteger(64, random), from,
                    to, new X500Name("CN=forkline-server"), client.getPublic());
            leaf.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            leaf.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
            leaf.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_clientAuth));
            X509CertificateHolder clientCert = leaf.build(signer);
            byte[] keyBytes = client.getPrivate().getEncoded();
            SelfSignedCertificate.writeAtomically(tls.keyDer, keyBytes, true);
            SelfSignedCertificate.writeAtomically(tls.key,
                    SelfSignedCertificate.pem("PRIVATE KEY", keyBytes).getBytes(StandardCharsets.US_ASCII), true);
            SelfSignedCertificate.writeAtomically(tls.certificate,
                    SelfSignedCertificate.pem("CERTIFICATE", clientCert.getEncoded()).getBytes(StandardCharsets.US_ASCII), false);
            SelfSignedCertificate.writeAtomically(tls.caCertificate,
                    SelfSignedCertificate.pem("CERTIFICATE", caCert.getEncoded()).getBytes(StandardCharsets.US_ASCII), false);
        } catch (GeneralSecurityException | OperatorCreationException e) {
            throw new IOException("cannot make the compute client certificate in " + dir + ": " + e, e);
        }
        return tls;
    }

    /**
     * The CA certificate as PEM text: what a compute node writes as its computes' {@code ssl_ca_file}.
     *
     * @throws IOException when the file cannot be read
     */
    public String caPem() throws IOException {
        return Files.readString(caCertificate, StandardCharsets.US_ASCII);
    }

    /** The same client certificate, verifying that computes present {@code computeCertificate} (PEM). */
    public ComputeClientTls verifyingServer(Path computeCertificate) {
        return new ComputeClientTls(caCertificate, certificate, key, keyDer, computeCertificate);
    }

    /**
     * Adds pgjdbc's {@code sslmode}, {@code sslcert} and {@code sslkey} (DER) to {@code p}: {@code verify-ca}
     * with {@code sslrootcert} when the server certificate is known, else {@code require}.
     */
    public void addTo(Properties p) {
        p.setProperty("sslmode", serverCertificate == null ? "require" : "verify-ca");
        p.setProperty("sslcert", certificate.toString());
        p.setProperty("sslkey", keyDer.toString());
        if (serverCertificate != null) {
            p.setProperty("sslrootcert", serverCertificate.toString());
        }
    }

    /**
     * libpq's environment for the same ({@code PGSSLMODE}, {@code PGSSLCERT}, {@code PGSSLKEY} with
     * the PEM key, {@code PGSSLROOTCERT}), for {@code pg_dump} / {@code psql} run by the server.
     */
    public Map<String, String> libpqEnvironment() {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("PGSSLMODE", serverCertificate == null ? "require" : "verify-ca");
        env.put("PGSSLCERT", certificate.toString());
        env.put("PGSSLKEY", key.toString());
        if (serverCertificate != null) {
            env.put("PGSSLROOTCERT", serverCertificate.toString());
        }
        return env;
    }

    /**
     * A Netty client context presenting the certificate, for the Postgres proxy's connections to
     * computes; it trusts only the server certificate when known ({@link PinnedCertificateTrust}), else any.
     *
     * @throws IllegalStateException naming the files when they cannot be loaded
     */
    public SslContext nettyClientContext() {
        try {
            SslContextBuilder b = SslContextBuilder.forClient().keyManager(certificate.toFile(), key.toFile())
                    .protocols("TLSv1.3", "TLSv1.2").endpointIdentificationAlgorithm(null);
            if (serverCertificate == null) {
                b.trustManager(InsecureTrustManagerFactory.INSTANCE);
            } else {
                b.trustManager(new PinnedCertificateTrust(PemFiles.certificate(serverCertificate)));
            }
            return b.build();
        } catch (IOException | IllegalArgumentException e) {
            throw new IllegalStateException("cannot load the compute client certificate " + certificate + " and key "
                    + key + (serverCertificate == null ? "" : " or the compute certificate " + serverCertificate) + ": "
                    + e.getMessage(), e);
        }
    }
}
