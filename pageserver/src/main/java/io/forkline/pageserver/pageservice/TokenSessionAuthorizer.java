package io.forkline.pageserver.pageservice;

import io.forkline.page.protocol.proto.ErrorCode;
import io.forkline.pageserver.auth.AuthException;
import io.forkline.pageserver.auth.TokenVerifier;

import java.util.Objects;

/**
 * The page service handshake's gate: the handshake's token must verify ({@link TokenVerifier}) and
 * its scope must cover the handshake's tenant ({@code admin}, or {@code tenant:<that tenant>}).
 * {@link AuthException.Code#UNAUTHORIZED} becomes {@link ErrorCode#UNAUTHORIZED},
 * {@link AuthException.Code#FORBIDDEN} {@link ErrorCode#FORBIDDEN}, with the verifier's message
 * (which never contains the token). With {@code --auth off} the verifier takes anything. Thread-safe.
 */
public final class TokenSessionAuthorizer implements SessionAuthorizer {
    private final TokenVerifier verifier;

    public TokenSessionAuthorizer(TokenVerifier verifier) {
        this.verifier = Objects.requireNonNull(verifier, "verifier");
    }

    @Override
    public void authorize(String token, String tenant) {
        try {
            verifier.verify(token).requireTenant(tenant);
        } catch (AuthException e) {
            throw new PageServiceError(e.code() == AuthException.Code.UNAUTHORIZED ? ErrorCode.UNAUTHORIZED
                    : ErrorCode.FORBIDDEN, e.getMessage());
        }
    }
}
