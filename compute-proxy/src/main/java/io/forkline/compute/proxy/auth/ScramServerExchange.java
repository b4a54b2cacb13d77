package io.forkline.compute.proxy.auth;

import com.ongres.scram.common.ScramFunctions;
import com.ongres.scram.common.ScramMechanism;
import io.forkline.compute.proxy.ScramVerifier;
import io.forkline.compute.proxy.wire.PgProtocolException;
import io.forkline.compute.proxy.wire.PgWire;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * The server side of one SCRAM-SHA-256 exchange (RFC 5802, RFC 7677) against a {@link ScramVerifier},
 * as PostgreSQL 15 runs it ({@code src/backend/libpq/auth-scram.c}): no channel binding (only
 * {@code SCRAM-SHA-256} is offered, so a client's gs2 flag is {@code n} or {@code y}), the user
 * name inside the SCRAM messages is ignored (the StartupMessage's user counts).
 *
 * <pre>
 * client-first:  gs2-header client-first-bare   e.g. "n,,n=,r=&lt;client nonce&gt;"
 * server-first:  "r=&lt;client nonce + server nonce&gt;,s=&lt;base64 salt&gt;,i=&lt;iterations&gt;"
 * client-final:  "c=&lt;base64 gs2-header&gt;,r=&lt;nonce&gt;,p=&lt;base64 ClientProof&gt;"
 * server-final:  "v=&lt;base64 ServerSignature&gt;"   (only when the proof is right)
 * </pre>
 *
 * Not thread-safe: one per connection, called in order {@link #serverFirst}, {@link #verifyClientFinal}.
 */
public final class ScramServerExchange {
    /** The mechanism name as it goes on the wire. */
    public static final String MECHANISM_NAME = "SCRAM-SHA-256";
    private static final ScramMechanism MECHANISM = ScramMechanism.SCRAM_SHA_256;
    private static final int NONCE_LENGTH = 18; // as PostgreSQL's SCRAM_RAW_NONCE_LEN, base64-ish characters here

    private final ScramVerifier verifier;
    private final SecureRandom random;
    private String gs2Header;
    private String clientFirstBare;
    private String serverFirst;
    private String nonce;

    public ScramServerExchange(ScramVerifier verifier, SecureRandom random) {
        this.verifier = verifier;
        this.random = random;
    }

    /**
     * The body of a SASLInitialResponse ('p'): mechanism name NUL, int32 length (-1 = none), data.
     *
     * @return the client-first-message
     * @throws PgProtocolException (08P01) when malformed or another mechanism is chosen
     */
    public static String parseInitialResponse(byte[] body) {
        int nul = indexOf(body, (byte) 0);
        if (nul < 0 || body.length < nul + 5) {
            throw malformed("SASLInitialResponse is too short");
        }
        String mechanism = new String(body, 0, nul, StandardCharsets.UTF_8);
        if (!MECHANISM_NAME.equals(mechanism)) {
            throw new PgProtocolException(PgWire.PROTOCOL_VIOLATION,
                    "client selected an invalid SASL authentication mechanism: \"" + mechanism + "\"");
        }
        int len = ((body[nul + 1] & 0xff) << 24) | ((body[nul + 2] & 0xff) << 16) | ((body[nul + 3] & 0xff) << 8)
                | (body[nul + 4] & 0xff);
        if (len < 0 || nul + 5 + len != body.length) {
            throw malformed("SASLInitialResponse data length " + len + " does not match the message");
        }
        return new String(body, nul + 5, len, StandardCharsets.UTF_8);
    }

    /**
     * Reads the client-first-message and returns the server-first-message.
     *
     * @throws PgProtocolException (08P01) when malformed or channel binding is requested
     */
    public String serverFirst(String clientFirst) {
        if (clientFirst.isEmpty()) {
            throw malformed("empty client-first-message");
        }
        char flag = clientFirst.charAt(0);
        if (flag == 'p') {
            throw new PgProtocolException(PgWire.PROTOCOL_VIOLATION,
                    "channel binding is not supported by this server (SCRAM-SHA-256-PLUS was not offered)");
        }
        if ((flag != 'n' && flag != 'y') || clientFirst.length() < 2 || clientFirst.charAt(1) != ',') {
            throw malformed("unexpected channel-binding flag in client-first-message: \"" + clientFirst + "\"");
        }
        int authzidEnd = clientFirst.indexOf(',', 2);
        if (authzidEnd < 0) {
            throw malformed("client-first-message has no gs2 header end");
        }
        gs2Header = clientFirst.substring(0, authzidEnd + 1);
        clientFirstBare = clientFirst.substring(authzidEnd + 1);
        String clientNonce = attribute(clientFirstBare, 'r');
        if (clientNonce == null || clientNonce.isEmpty()) {
            throw malformed("client-first-message has no nonce");
        }
        nonce = clientNonce + ScramFunctions.nonce(NONCE_LENGTH, random);
        serverFirst = "r=" + nonce + ",s=" + Base64.getEncoder().encodeToString(verifier.salt()) + ",i=" + verifier.iterations();
        return serverFirst;
    }

    /**
     * Checks the client-final-message's proof.
     *
     * @return the server-final-message ({@code v=<ServerSignature>}) when the proof is right, or
     *         {@code null} when it is wrong (a wrong password)
     * @throws PgProtocolException (08P01) when malformed (bad nonce, channel binding data, proof)
     */
    public String verifyClientFinal(String clientFinal) {
        if (serverFirst == null) {
            throw new IllegalStateException("serverFirst was not called");
        }
        int proofAt = clientFinal.lastIndexOf(",p=");
        if (proofAt < 0) {
            throw malformed("client-final-message has no proof");
        }
        String withoutProof = clientFinal.substring(0, proofAt);
        String cbind = attribute(withoutProof, 'c');
        String expectedCbind = Base64.getEncoder().encodeToString(gs2Header.getBytes(StandardCharsets.UTF_8));
        if (!expectedCbind.equals(cbind)) {
            throw malformed("unexpected SCRAM channel-binding data \"" + cbind + "\"");
        }
        if (!nonce.equals(attribute(withoutProof, 'r'))) {
            throw malformed("SCRAM nonce does not match");
        }
        byte[] proof;
        try {
            proof = Base64.getDecoder().decode(clientFinal.substring(proofAt + 3));
        } catch (IllegalArgumentException e) {
            throw malformed("SCRAM proof is not base64");
        }
        if (proof.length != 32) {
            throw malformed("SCRAM proof is " + proof.length + " bytes, expected 32");
        }
        String authMessage = clientFirstBare + "," + serverFirst + "," + withoutProof;
        byte[] storedKey = verifier.storedKey();
        byte[] signature = ScramFunctions.clientSignature(MECHANISM, storedKey, authMessage);
        byte[] clientKey = new byte[32];
        for (int i = 0; i < 32; i++) {
            clientKey[i] = (byte) (proof[i] ^ signature[i]);
        }
        if (!MessageDigest.isEqual(ScramFunctions.hash(MECHANISM, clientKey), storedKey)) {
            return null;
        }
        return "v=" + Base64.getEncoder().encodeToString(ScramFunctions.serverSignature(MECHANISM, verifier.serverKey(), authMessage));
    }

    /** The value of attribute {@code name} ({@code name=value}) in a comma-separated SCRAM message. */
    private static String attribute(String message, char name) {
        for (String part : message.split(",", -1)) {
            if (part.length() >= 2 && part.charAt(0) == name && part.charAt(1) == '=') {
                return part.substring(2);
            }
        }
        return null;
    }

    private static int indexOf(byte[] b, byte v) {
        for (int i = 0; i < b.length; i++) {
            if (b[i] == v) {
                return i;
            }
        }
        return -1;
    }

    private static PgProtocolException malformed(String what) {
        return new PgProtocolException(PgWire.PROTOCOL_VIOLATION, "malformed SCRAM message: " + what);
    }
}
