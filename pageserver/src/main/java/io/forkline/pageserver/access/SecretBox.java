package io.forkline.pageserver.access;

import io.forkline.pageserver.auth.PrivateFiles;

import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;

/**
 * Encrypts the secrets the server must be able to show again (branch passwords, for their
 * connection strings) with AES-256-GCM (JDK crypto) under the server's key file
 * {@code <dataDir>/auth/secrets.key} (32 random bytes, mode {@code 0600}, created at the first start).
 * Sealed text is {@code base64(12-byte IV || ciphertext || 16-byte tag)}; the associated data binds a
 * sealed value to its purpose (e.g. the endpoint id), so a value copied to another record does not open.
 * Thread-safe.
 */
public final class SecretBox {
    private static final int IV_BYTES = 12;
    private static final int TAG_BITS = 128;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final SecretKey key;

    private SecretBox(byte[] key) {
        this.key = new SecretKeySpec(key, "AES");
    }

    /** The key file under {@code dataDir}. */
    public static Path keyFile(Path dataDir) {
        return dataDir.resolve("auth").resolve("secrets.key");
    }

    /**
     * Opens the server's key, creating it ({@code 0600}) when missing.
     *
     * @throws UncheckedIOException when the key file cannot be read or written, or is not 32 bytes
     */
    public static SecretBox open(Path dataDir) {
        Path file = keyFile(dataDir);
        try {
            if (!Files.exists(file)) {
                byte[] k = new byte[32];
                RANDOM.nextBytes(k);
                PrivateFiles.write(file, k);
            }
            byte[] k = Files.readAllBytes(file);
            if (k.length != 32) {
                throw new IOException("the key file " + file + " holds " + k.length + " bytes, not 32");
            }
            return new SecretBox(k);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open the server's secret key " + file + ": " + e.getMessage(), e);
        }
    }

    /** Encrypts {@code clear} bound to {@code context}. */
    public String seal(String clear, String context) {
        try {
            byte[] iv = new byte[IV_BYTES];
            RANDOM.nextBytes(iv);
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, iv));
            c.updateAAD(context.getBytes(StandardCharsets.UTF_8));
            byte[] ct = c.doFinal(clear.getBytes(StandardCharsets.UTF_8));
            byte[] out = Arrays.copyOf(iv, IV_BYTES + ct.length);
            System.arraycopy(ct, 0, out, IV_BYTES, ct.length);
            return Base64.getEncoder().encodeToString(out);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM unavailable: " + e.getMessage(), e);
        }
    }

    /**
     * Decrypts what {@link #seal} made with the same {@code context}.
     *
     * @throws IllegalArgumentException when {@code sealed} was not made by this key and context (tampered,
     *                                  another server's key, another record)
     */
    public String open(String sealed, String context) {
        try {
            byte[] in = Base64.getDecoder().decode(sealed);
            if (in.length < IV_BYTES + TAG_BITS / 8) {
                throw new IllegalArgumentException("sealed secret of " + context + " is too short");
            }
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, in, 0, IV_BYTES));
            c.updateAAD(context.getBytes(StandardCharsets.UTF_8));
            return new String(c.doFinal(in, IV_BYTES, in.length - IV_BYTES), StandardCharsets.UTF_8);
        } catch (javax.crypto.AEADBadTagException e) {
            throw new IllegalArgumentException("the sealed secret of " + context + " does not open with this server's key "
                    + "(auth/secrets.key replaced or the record altered)", e);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM unavailable: " + e.getMessage(), e);
        }
    }
}
