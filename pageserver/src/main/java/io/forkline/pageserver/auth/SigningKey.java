package io.forkline.pageserver.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;

/**
 * The server's token signing key: an ECDSA P-256 key pair, tokens signed {@code ES256} (RFC 7518
 * section 3.4), kept as a JWK (RFC 7517, private part included) in
 * {@code <data-dir>/auth/signing-key.jwk}, mode {@code 0600}.
 *
 * <p>Why ES256: an asymmetric key lets a future verifier that must not mint tokens (a proxy, a
 * safekeeper, a page-service client checking the server) get only the public half, as Neon does
 * with its EdDSA key; and nimbus-jose-jwt does ES256 with the JDK's own JCA provider, where its
 * Ed25519 support needs Google Tink as an extra dependency. A verification costs 20-40 HMAC
 * checks (benchmarks/README.md section 6), paid once per token: {@link TokenVerifier} remembers
 * the tokens it verified.
 *
 * <p>Immutable, thread-safe.
 */
public final class SigningKey {
    /** The algorithm of every token. */
    public static final JWSAlgorithm ALGORITHM = JWSAlgorithm.ES256;
    /** The key's file name under the auth directory. */
    public static final String FILE_NAME = "signing-key.jwk";

    private static final Logger log = LoggerFactory.getLogger(SigningKey.class);

    private final ECKey key;
    private final JWSSigner signer;
    private final JWSVerifier verifier;

    private SigningKey(ECKey key) {
        this.key = key;
        try {
            this.signer = new ECDSASigner(key);
            this.verifier = new ECDSAVerifier(key.toPublicJWK());
        } catch (JOSEException e) {
            throw new IllegalStateException("unusable P-256 key " + key.getKeyID() + ": " + e.getMessage(), e);
        }
    }

    /** A new random P-256 key with a random key id (not stored anywhere). */
    public static SigningKey generate() {
        try {
            return new SigningKey(new ECKeyGenerator(Curve.P_256).keyID(UUID.randomUUID().toString()).generate());
        } catch (JOSEException e) {
            throw new IllegalStateException("the JDK cannot generate a P-256 key: " + e.getMessage(), e);
        }
    }

    /**
     * Loads {@code authDir/signing-key.jwk}, or generates a key and writes it there (mode
     * {@code 0600}, directory {@code 0700}) when the file does not exist. A key file readable by
     * others is restricted to {@code 0600} with a warning.
     *
     * @throws IOException when the file cannot be read or written, or does not hold a private P-256 JWK
     *                     (the message names the file)
     */
    public static SigningKey loadOrCreate(Path authDir) throws IOException {
        Path file = authDir.resolve(FILE_NAME);
        if (Files.exists(file)) {
            if (PrivateFiles.isExposed(file)) {
                log.warn("{} could be read by other users; setting its mode to 0600", file);
                PrivateFiles.restrict(file);
            }
            return parse(file, Files.readString(file, StandardCharsets.UTF_8));
        }
        SigningKey k = generate();
        PrivateFiles.write(file, k.key.toJSONString().getBytes(StandardCharsets.UTF_8));
        log.info("created token signing key {} ({}, {})", k.keyId(), ALGORITHM, file);
        return k;
    }

    private static SigningKey parse(Path file, String json) throws IOException {
        ECKey k;
        try {
            k = ECKey.parse(json);
        } catch (java.text.ParseException e) {
            throw new IOException(file + " is not an EC JWK: " + e.getMessage()
                    + " (move it away to make the server create a new key; every issued token then stops working)", e);
        }
        if (!k.isPrivate() || !Curve.P_256.equals(k.getCurve())) {
            throw new IOException(file + " must hold a private P-256 key (curve " + k.getCurve() + ", private "
                    + k.isPrivate() + ")");
        }
        return new SigningKey(k);
    }

    /** The key id ({@code kid} header of every token it signs). */
    public String keyId() {
        return key.getKeyID();
    }

    /** The public half as a JWK JSON object (what a verifier that must not sign needs). */
    public String publicJwk() {
        return key.toPublicJWK().toJSONString();
    }

    JWSSigner signer() {
        return signer;
    }

    JWSVerifier verifier() {
        return verifier;
    }
}
