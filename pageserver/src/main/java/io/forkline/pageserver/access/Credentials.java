package io.forkline.pageserver.access;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.forkline.compute.proxy.ScramVerifier;
import io.forkline.pageserver.metadata.MetadataRecords;

import java.security.SecureRandom;

/**
 * The password of each branch's endpoint, kept as the metadata record {@code endpoint-secret/<endpoint id>}
 * (JSON): the SCRAM-SHA-256 verifier the proxy checks logins with ({@link ScramVerifier}, PostgreSQL's
 * {@code rolpassword} form) and the password sealed with the server's key ({@link SecretBox}), so that
 * the connection string can be shown again. The password is never stored in clear.
 *
 * <p>Passwords are 24 characters of the URL-safe base64 alphabet (144 random bits), safe in a URI
 * without escaping. Thread-safe; callers serialize changes of one endpoint (the tenant's lock).
 */
public final class Credentials {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final String PREFIX = "endpoint-secret/";

    private final MetadataRecords records;
    private final SecretBox box;
    private final ReadyPasswords ready = new ReadyPasswords(RANDOM);

    /**
     * The stored form.
     *
     * @param verifier SCRAM-SHA-256 verifier text
     * @param sealed   the password sealed by {@link SecretBox} with the endpoint id as context
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record Stored(@JsonProperty("verifier") String verifier, @JsonProperty("password_sealed") String sealed) {
    }

    /** Credentials in {@code records}, sealed with {@code box}. */
    public Credentials(MetadataRecords records, SecretBox box) {
        this.records = records;
        this.box = box;
        ready.refill();
    }

    /** The record key of {@code endpointId}. */
    public static String key(String endpointId) {
        return PREFIX + endpointId;
    }

    /** A new random password (24 URL-safe characters). */
    public static String newPassword() {
        byte[] b = new byte[18];
        RANDOM.nextBytes(b);
        return java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    /**
     * Adds to {@code changes} a new random password for {@code endpointId} (replacing any), to be
     * written with the branch record.
     *
     * @return the new password
     */
    public String create(String endpointId, MetadataRecords.Changes changes) {
        ReadyPasswords.Pair p = ready.take(); // its verifier's PBKDF2 was done ahead, off this call
        changes.put(key(endpointId), new Stored(p.verifier().toString(), box.seal(p.password(), endpointId)));
        return p.password();
    }

    /** Gives {@code endpointId} a new random password now (durable). @return the new password */
    public String reset(String endpointId) {
        MetadataRecords.Changes c = new MetadataRecords.Changes();
        String pw = create(endpointId, c);
        records.write(c);
        return pw;
    }

    /** Adds the deletion of {@code endpointId}'s secret to {@code changes}. */
    public static MetadataRecords.Changes delete(String endpointId, MetadataRecords.Changes changes) {
        return changes.delete(key(endpointId));
    }

    /** Whether {@code endpointId} has a password. */
    public boolean exists(String endpointId) {
        return records.exists(key(endpointId));
    }

    /** The verifier of {@code endpointId}'s password, or {@code null} when it has none. */
    public ScramVerifier verifier(String endpointId) {
        Stored s = records.get(key(endpointId), Stored.class);
        return s == null ? null : ScramVerifier.parse(s.verifier());
    }

    /**
     * The password of {@code endpointId} in clear (for its connection string), or {@code null} when it has none.
     *
     * @throws IllegalArgumentException when the sealed password does not open with the server's key
     */
    public String password(String endpointId) {
        Stored s = records.get(key(endpointId), Stored.class);
        return s == null ? null : box.open(s.sealed(), endpointId);
    }
}
