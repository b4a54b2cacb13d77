package io.forkline.pageserver.access;

import java.security.SecureRandom;
import java.util.regex.Pattern;

/**
 * Endpoint ids: the stable name a client routes with to a branch's compute, {@code ep-} and 8
 * characters of {@code [a-z0-9]} (e.g. {@code ep-k3v9q2xd}): a DNS label (TLS SNI
 * {@code <id>.<domain>}), 36^8 (about 2.8e12) possible ids. Stateless, thread-safe.
 */
public final class EndpointIds {
    private static final String ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";
    private static final Pattern FORM = Pattern.compile("ep-[a-z0-9]{8}");
    private static final SecureRandom RANDOM = new SecureRandom();

    private EndpointIds() {
    }

    /** A new random id (the caller checks it is unused on the server). */
    public static String generate() {
        StringBuilder sb = new StringBuilder("ep-");
        for (int i = 0; i < 8; i++) {
            sb.append(ALPHABET.charAt(RANDOM.nextInt(ALPHABET.length())));
        }
        return sb.toString();
    }

    /** Whether {@code id} has the form of an endpoint id. */
    public static boolean isValid(String id) {
        return id != null && FORM.matcher(id).matches();
    }
}
