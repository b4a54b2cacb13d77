package io.forkline.compute.proxy.auth;

import com.ongres.scram.common.ScramFunctions;
import com.ongres.scram.common.ScramMechanism;
import com.ongres.scram.common.StringPreparation;
import io.forkline.compute.proxy.ScramVerifier;
import io.forkline.compute.proxy.wire.PgProtocolException;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Base64;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The exchange against a client computed here from RFC 5802's formulas (real clients: PgProxyIT). */
class ScramServerExchangeTest {
    private static final ScramMechanism M = ScramMechanism.SCRAM_SHA_256;
    private final ScramVerifier verifier = ScramVerifier.create("pencil".toCharArray(), new SecureRandom());

    @Test
    void theRightPasswordGetsTheServerSignatureTheClientExpects() {
        ScramServerExchange ex = new ScramServerExchange(verifier, new SecureRandom());
        String clientFirstBare = "n=,r=rOprNGfwEbeRWgbNEkqO";
        String serverFirst = ex.serverFirst("n,," + clientFirstBare);
        assertThat(serverFirst).startsWith("r=rOprNGfwEbeRWgbNEkqO").contains(",s=").endsWith(",i=4096");
        String nonce = serverFirst.substring(2, serverFirst.indexOf(','));
        String withoutProof = "c=biws,r=" + nonce;
        String authMessage = clientFirstBare + "," + serverFirst + "," + withoutProof;
        byte[] salted = ScramFunctions.saltedPassword(M, StringPreparation.POSTGRESQL_PREPARATION, "pencil".toCharArray(),
                verifier.salt(), 4096);
        byte[] clientKey = ScramFunctions.clientKey(M, salted);
        byte[] proof = ScramFunctions.clientProof(clientKey, ScramFunctions.clientSignature(M, ScramFunctions.storedKey(M, clientKey), authMessage));
        String serverFinal = ex.verifyClientFinal(withoutProof + ",p=" + Base64.getEncoder().encodeToString(proof));
        assertThat(serverFinal).isEqualTo("v=" + Base64.getEncoder().encodeToString(
                ScramFunctions.serverSignature(M, ScramFunctions.serverKey(M, salted), authMessage)));
    }

    @Test
    void aWrongProofIsAWrongPasswordAndBadMessagesAreProtocolErrors() {
        ScramServerExchange ex = new ScramServerExchange(verifier, new SecureRandom());
        String serverFirst = ex.serverFirst("n,,n=,r=abc");
        String nonce = serverFirst.substring(2, serverFirst.indexOf(','));
        assertThat(ex.verifyClientFinal("c=biws,r=" + nonce + ",p=" + Base64.getEncoder().encodeToString(new byte[32]))).isNull();
        assertThatThrownBy(() -> ex.verifyClientFinal("c=biws,r=other,p=" + Base64.getEncoder().encodeToString(new byte[32])))
                .isInstanceOf(PgProtocolException.class).hasMessageContaining("nonce");
        assertThatThrownBy(() -> new ScramServerExchange(verifier, new SecureRandom()).serverFirst("p=tls-server-end-point,,n=,r=x"))
                .isInstanceOf(PgProtocolException.class).hasMessageContaining("channel binding");
        assertThatThrownBy(() -> new ScramServerExchange(verifier, new SecureRandom()).serverFirst("n,,n=,x=1"))
                .isInstanceOf(PgProtocolException.class).hasMessageContaining("no nonce");
    }

    @Test
    void parsesTheInitialResponse() {
        byte[] mech = "SCRAM-SHA-256\0".getBytes(StandardCharsets.US_ASCII);
        byte[] data = "n,,n=,r=x".getBytes(StandardCharsets.US_ASCII);
        byte[] body = ByteBuffer.allocate(mech.length + 4 + data.length).put(mech).putInt(data.length).put(data).array();
        assertThat(ScramServerExchange.parseInitialResponse(body)).isEqualTo("n,,n=,r=x");
        byte[] other = ByteBuffer.allocate(11).put("PLAIN\0".getBytes(StandardCharsets.US_ASCII)).putInt(1).put((byte) 'x').array();
        assertThatThrownBy(() -> ScramServerExchange.parseInitialResponse(other)).hasMessageContaining("\"PLAIN\"");
    }
}
