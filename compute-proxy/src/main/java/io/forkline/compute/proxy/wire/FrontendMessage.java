package io.forkline.compute.proxy.wire;

/**
 * A typed message from a client during authentication (PasswordMessage, SASLInitialResponse and
 * SASLResponse are all type {@code 'p'}; Terminate is {@code 'X'}).
 *
 * @param type the type byte
 * @param body the bytes after the length field (a copy the holder owns)
 */
public record FrontendMessage(char type, byte[] body) {
}
