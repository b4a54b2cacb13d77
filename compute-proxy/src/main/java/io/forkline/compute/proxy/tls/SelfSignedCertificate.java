package io.forkline.compute.proxy.tls;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;

/**
 * The proxy's own TLS certificate when none is given: an ECDSA P-256 key and a self-signed X.509
 * certificate (subject {@code CN=forkline-proxy}, names {@code localhost} and {@code *.localhost},
 * valid 10 years), made with BouncyCastle on first start as {@code <dir>/proxy.crt} and
 * {@code <dir>/proxy.key} (PEM; the key PKCS#8, mode 0600) and reused on later starts.
 *
 * <p>Clients connecting with {@code sslmode=require} (libpq, pgjdbc) encrypt without checking the
 * certificate; {@code verify-full} needs a certificate given with {@code --tls-cert/--tls-key}.
 */
public final class SelfSignedCertificate {
    /** The certificate file name in the directory. */
    public static final String CERT_FILE = "proxy.crt";
    /** The private key file name in the directory. */
    public static final String KEY_FILE = "proxy.key";
    private static final Duration VALIDITY = Duration.ofDays(3650);

    private SelfSignedCertificate() {
    }

    /**
     * The certificate and key files in {@code dir}, generated first when either is missing.
     *
     * @return {@code [certificate, key]}
     * @throws IOException when the directory or files cannot be written
     */
    public static Path[] ensure(Path dir) throws IOException {
        return ensure(dir, CERT_FILE, KEY_FILE, "forkline-proxy", "localhost", "*.localhost");
    }

    /**
     * As {@link #ensure(Path)} with other file names, subject {@code CN=<commonName>} and DNS names
     * (e.g. a compute node's certificate for its computes' {@code ssl_cert_file}).
     *
     * @return {@code [certificate, key]}
     * @throws IOException when the directory or files cannot be written
     */
    public static Path[] ensure(Path dir, String certFile, String keyFile, String commonName, String... dnsNames)
            throws IOException {
        Path cert = dir.resolve(certFile);
        Path key = dir.resolve(keyFile);
        if (Files.isRegularFile(cert) && Files.isRegularFile(key)) {
            return new Path[]{cert, key};
        }
        Files.createDirectories(dir);
        try {
            KeyPairGenerator gen = KeyPairGenerator.getInstance("EC");
            gen.initialize(new ECGenParameterSpec("secp256r1"), new SecureRandom());
            KeyPair pair = gen.generateKeyPair();
            X500Name subject = new X500Name("CN=" + commonName);
            Instant now = Instant.now();
            JcaX509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(subject,
                    new BigInteger(64, new SecureRandom()), Date.from(now.minus(Duration.ofDays(1))),
                    Date.from(now.plus(VALIDITY)), subject, pair.getPublic());
            GeneralName[] names = new GeneralName[dnsNames.length];
            for (int i = 0; i < names.length; i++) {
                names[i] = new GeneralName(GeneralName.dNSName, dnsNames[i]);
            }
            builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names));
            X509CertificateHolder holder = builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(pair.getPrivate()));
            writeAtomically(key, pem("PRIVATE KEY", pair.getPrivate().getEncoded()), true);
            writeAtomically(cert, pem("CERTIFICATE", holder.getEncoded()), false);
        } catch (GeneralSecurityException | OperatorCreationException e) {
            throw new IOException("cannot generate a self-signed certificate in " + dir + ": " + e, e);
        }
        return new Path[]{cert, key};
    }

    static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, new byte[]{'\n'}).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }

    private static void writeAtomically(Path file, String content, boolean secret) throws IOException {
        writeAtomically(file, content.getBytes(StandardCharsets.US_ASCII), secret);
    }

    /** Writes {@code content} to a temporary sibling (mode 0600 when {@code secret}) and renames it over {@code file}. */
    static void writeAtomically(Path file, byte[] content, boolean secret) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        if (secret) {
            Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        }
        Files.write(tmp, content);
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
}
