package io.forkline.compute.proxy;

import com.ongres.scram.common.ScramFunctions;
import com.ongres.scram.common.ScramMechanism;
import com.ongres.scram.common.StringPreparation;

import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.Objects;

/**
 * What a server keeps to check a SCRAM-SHA-256 password without knowing it (RFC 5802 section 3,
 * RFC 7677): the PBKDF2 iteration count, the salt, {@code StoredKey = H(HMAC(SaltedPassword,
 * "Client Key"))} and {@code ServerKey = HMAC(SaltedPassword, "Server Key")}.
 *
 * <p>Text form ({@link #toString}, {@link #parse}) is PostgreSQL's own {@code pg_authid.rolpassword}
 * form, {@code SCRAM-SHA-256$<iterations>:<base64 salt>$<base64 StoredKey>:<base64 ServerKey>}
 * (PostgreSQL 15 {@code src/common/scram-common.c}, {@code scram_build_secret}); passwords are
 * prepared with SASLprep as PostgreSQL does ({@code pg_saslprep}, falling back to the raw string
 * when it is not valid UTF-8 / SASLprep input).
 *
 * @param iterations PBKDF2-HMAC-SHA-256 iterations (PostgreSQL's default is 4096)
 * @param salt       random salt (16 bytes when created here)
 * @param storedKey  32 bytes
 * @param serverKey  32 bytes
 */
public record ScramVerifier(int iterations, byte[] salt, byte[] storedKey, byte[] serverKey) {
    /** PostgreSQL's {@code SCRAM_DEFAULT_ITERATIONS}. */
    public static final int DEFAULT_ITERATIONS = 4096;
    /** PostgreSQL's {@code SCRAM_DEFAULT_SALT_LEN}. */
    public static final int SALT_LENGTH = 16;
    private static final ScramMechanism MECHANISM = ScramMechanism.SCRAM_SHA_256;
    private static final String PREFIX = "SCRAM-SHA-256$";

    public ScramVerifier {
        Objects.requireNonNull(salt, "salt");
        Objects.requireNonNull(storedKey, "storedKey");
        Objects.requireNonNull(serverKey, "serverKey");
        if (iterations < 1) {
            throw new IllegalArgumentException("SCRAM iteration count must be positive, got " + iterations);
        }
        if (storedKey.length != 32 || serverKey.length != 32) {
            throw new IllegalArgumentException("SCRAM-SHA-256 keys are 32 bytes, got StoredKey " + storedKey.length
                    + " and ServerKey " + serverKey.length);
        }
        salt = salt.clone();
        storedKey = storedKey.clone();
        serverKey = serverKey.clone();
    }

    /** A verifier of {@code password} with a fresh random salt and {@link #DEFAULT_ITERATIONS}. */
    public static ScramVerifier create(char[] password, SecureRandom random) {
        return create(password, ScramFunctions.salt(SALT_LENGTH, random), DEFAULT_ITERATIONS);
    }

    /** A verifier of {@code password} with the given salt and iteration count. */
    public static ScramVerifier create(char[] password, byte[] salt, int iterations) {
        byte[] salted = saltedPassword(password, salt, iterations);
        return new ScramVerifier(iterations, salt,
                ScramFunctions.storedKey(MECHANISM, ScramFunctions.clientKey(MECHANISM, salted)),
                ScramFunctions.serverKey(MECHANISM, salted));
    }

    /**
     * Whether {@code password} (sent in clear, e.g. by a client that routes with a password of the
     * form {@code endpoint=<id>;<password>}) is the one this verifier was made of. Constant time in
     * the compared keys.
     */
    public boolean matches(char[] password) {
        byte[] salted = saltedPassword(password, salt, iterations);
        byte[] stored = ScramFunctions.storedKey(MECHANISM, ScramFunctions.clientKey(MECHANISM, salted));
        return MessageDigest.isEqual(stored, storedKey);
    }

    /**
     * Parses PostgreSQL's form {@code SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>}.
     *
     * @throws IllegalArgumentException naming what is wrong when {@code text} is not in that form
     */
    public static ScramVerifier parse(String text) {
        if (text == null || !text.startsWith(PREFIX)) {
            throw new IllegalArgumentException("not a SCRAM-SHA-256 secret (expected 'SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>')");
        }
        String[] parts = text.substring(PREFIX.length()).split("\\$", -1);
        if (parts.length != 2) {
            throw new IllegalArgumentException("a SCRAM-SHA-256 secret has two '$'-separated parts after the mechanism, got " + parts.length);
        }
        String[] it = parts[0].split(":", -1);
        String[] keys = parts[1].split(":", -1);
        if (it.length != 2 || keys.length != 2) {
            throw new IllegalArgumentException("a SCRAM-SHA-256 secret is '<iterations>:<salt>$<StoredKey>:<ServerKey>'");
        }
        try {
            Base64.Decoder b64 = Base64.getDecoder();
            return new ScramVerifier(Integer.parseInt(it[0]), b64.decode(it[1]), b64.decode(keys[0]), b64.decode(keys[1]));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("SCRAM iteration count is not a number: '" + it[0] + "'");
        }
    }

    /** PostgreSQL's {@code pg_authid.rolpassword} form (see the class comment). */
    @Override
    public String toString() {
        Base64.Encoder b64 = Base64.getEncoder();
        return PREFIX + iterations + ":" + b64.encodeToString(salt) + "$" + b64.encodeToString(storedKey) + ":"
                + b64.encodeToString(serverKey);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ScramVerifier v && v.iterations == iterations && Arrays.equals(v.salt, salt)
                && Arrays.equals(v.storedKey, storedKey) && Arrays.equals(v.serverKey, serverKey);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(storedKey);
    }

    @Override
    public byte[] salt() {
        return salt.clone();
    }

    @Override
    public byte[] storedKey() {
        return storedKey.clone();
    }

    @Override
    public byte[] serverKey() {
        return serverKey.clone();
    }

    private static byte[] saltedPassword(char[] password, byte[] salt, int iterations) {
        return ScramFunctions.saltedPassword(MECHANISM, StringPreparation.POSTGRESQL_PREPARATION, password, salt, iterations);
    }
}
