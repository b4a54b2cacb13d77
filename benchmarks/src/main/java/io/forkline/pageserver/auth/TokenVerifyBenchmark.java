package io.forkline.pageserver.auth;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.MACVerifier;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.security.SecureRandom;
import java.time.Clock;
import java.util.Date;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * What checking a token costs, once per admin API request and per page-service connection:
 * {@link TokenVerifier#verify} of an ES256 tenant token seen for the first time (parse, key id, ECDSA
 * P-256 signature, claims) and seen again (remembered), beside its peer, the same steps for an HS256
 * token (HMAC-SHA256, the symmetric choice we did not take), and issuing an ES256 token. One thread,
 * average time per operation.
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar TokenVerifyBenchmark}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(1)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
public class TokenVerifyBenchmark {
    private TokenVerifier verifier;
    private TokenVerifier uncached;
    private TokenIssuer issuer;
    private String es256Token;
    private MACVerifier macVerifier;
    private String hs256Token;

    @Setup
    public void setUp() throws Exception {
        SigningKey key = SigningKey.generate();
        issuer = new TokenIssuer(key, Clock.systemUTC());
        verifier = new TokenVerifier(key, Clock.systemUTC());
        uncached = new TokenVerifier(key, Clock.systemUTC(), 0);
        es256Token = issuer.tenantToken("bench", Optional.empty()).token();

        byte[] secret = new byte[32];
        new SecureRandom().nextBytes(secret);
        SignedJWT hs = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.HS256).keyID("k").build(),
                new JWTClaimsSet.Builder().issuer(TokenIssuer.ISSUER).claim(TokenIssuer.SCOPE_CLAIM, "tenant:bench")
                        .issueTime(new Date()).jwtID("j").build());
        hs.sign(new MACSigner(secret));
        hs256Token = hs.serialize();
        macVerifier = new MACVerifier(secret);
    }

    /** ES256, first sight of a token: parse, key id, ECDSA P-256 signature, claims. */
    @Benchmark
    public AuthScope verifyEs256() throws AuthException {
        return uncached.verify(es256Token);
    }

    /** ES256, a token seen before (the server's verifier remembers verified tokens): expiry only. */
    @Benchmark
    public AuthScope verifyEs256Remembered() throws AuthException {
        return verifier.verify(es256Token);
    }

    /** The peer: parse, HMAC-SHA256 check and scope of an HS256 token. */
    @Benchmark
    public AuthScope verifyHs256() throws Exception {
        SignedJWT jwt = SignedJWT.parse(hs256Token);
        if (!jwt.verify(macVerifier)) {
            throw new IllegalStateException("bad signature");
        }
        return AuthScope.parse((String) jwt.getJWTClaimsSet().getClaim(TokenIssuer.SCOPE_CLAIM));
    }

    /** Issuing one ES256 token (POST /v1/tokens, an endpoint's basebackup fetch). */
    @Benchmark
    public String issueEs256() {
        return issuer.tenantToken("bench", Optional.empty()).token();
    }
}
