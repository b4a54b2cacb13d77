package io.forkline.compute.proxy.tls;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@link PemFiles} reading what {@link SelfSignedCertificate} writes, and {@link PinnedCertificateTrust}'s one rule. */
class PinnedCertificateTrustTest {
    @TempDir
    Path dir;

    @Test
    void trustsExactlyThePinnedCertificateAndNamesBothFingerprintsOtherwise() throws Exception {
        Path[] a = SelfSignedCertificate.ensure(dir.resolve("a"), "compute.crt", "compute.key", "forkline-compute-node", "localhost");
        Path[] b = SelfSignedCertificate.ensure(dir.resolve("b"), "compute.crt", "compute.key", "forkline-compute-node", "localhost");
        X509Certificate certA = PemFiles.certificate(a[0]);
        X509Certificate certB = PemFiles.certificate(b[0]);
        assertThat(PemFiles.privateKey(a[1]).getAlgorithm()).isEqualTo("EC");
        assertThat(PemFiles.serverContext(a[0], a[1]).getProtocol()).isEqualTo("TLS");
        assertThat(PemFiles.sha256Fingerprint(certA)).matches("([0-9A-F]{2}:){31}[0-9A-F]{2}");

        PinnedCertificateTrust trust = new PinnedCertificateTrust(certA);
        trust.checkServerTrusted(new X509Certificate[]{certA}, "ECDHE_ECDSA"); // accepted
        // same subject, another key: refused, naming both fingerprints
        assertThatThrownBy(() -> trust.checkServerTrusted(new X509Certificate[]{certB}, "ECDHE_ECDSA"))
                .isInstanceOf(CertificateException.class)
                .hasMessageContaining(PemFiles.sha256Fingerprint(certB)).hasMessageContaining(PemFiles.sha256Fingerprint(certA));
        assertThatThrownBy(() -> trust.checkServerTrusted(new X509Certificate[0], "ECDHE_ECDSA"))
                .isInstanceOf(CertificateException.class).hasMessageContaining("no certificate");
        assertThatThrownBy(() -> trust.checkClientTrusted(new X509Certificate[]{certA}, "ECDHE_ECDSA"))
                .isInstanceOf(CertificateException.class);
    }

    @Test
    void filesWithoutTheBlockAreRefusedNamingThem() throws Exception {
        Path junk = Files.writeString(dir.resolve("junk.crt"), "not a certificate\n");
        assertThatThrownBy(() -> PemFiles.certificate(junk)).hasMessageContaining(junk.toString())
                .hasMessageContaining("BEGIN CERTIFICATE");
        assertThatThrownBy(() -> PinnedCertificateTrust.clientContext(junk)).hasMessageContaining(junk.toString());
        assertThatThrownBy(() -> PemFiles.privateKey(junk)).hasMessageContaining(junk.toString());
    }
}
