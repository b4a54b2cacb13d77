package io.forkline.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * The workload the launcher records the client's AOT cache from (JDK 25+, {@code java
 * -XX:AOTMode=record ... io.forkline.cli.AotTraining}, see {@code ./forkline}): what the commands
 * do when they start, parse their arguments, call the admin API, read its JSON and print, so the
 * cache holds those classes already loaded and linked, with their profiles. No side effects: the
 * "server" is a loopback socket of this process answering every request with a canned branch (a
 * GET with a list of two), one request gets "connection refused", and all output goes to a
 * buffer. Not part of the command line's contract.
 */
public final class AotTraining {
    private static final String BRANCH = "{\"ref\":\"dev\",\"timeline_id\":\"0123456789abcdef0123456789abcdef\","
            + "\"parent\":\"main\",\"ancestor_lsn\":\"0/1500780\",\"last_record_lsn\":\"0/1500780\","
            + "\"created_at\":\"2026-01-01T00:00:00Z\",\"protected\":false,\"expires_at\":\"2999-01-01T00:00:00Z\","
            + "\"ttl\":\"7d\",\"size\":\"s\",\"schema_only\":false,\"logical_size_bytes\":8192000,"
            + "\"physical_size_bytes\":4096,\"stored_bytes\":0,\"deleted\":[\"dev\"],"
            + "\"endpoint\":{\"state\":\"stopped\",\"uri\":null,\"size\":null}}";

    private AotTraining() {
    }

    public static void main(String[] args) throws Exception {
        try (ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Thread t = Thread.ofPlatform().daemon().start(() -> serve(server));
            Map<String, String> env = Map.of("FORKLINE_URL", "http://127.0.0.1:" + server.getLocalPort());
            String[][] commands = {
                    {"--help"},
                    {"branch", "list", "--tenant", "t", "--json"},
                    {"branch", "list", "--tenant", "t"},
                    {"branch", "create", "dev", "--tenant", "t"},
                    {"branch", "delete", "dev", "--tenant", "t"},
                    {"branch", "create", "-x", "--tenant", "t"},
                    {"tenant", "list", "--json"},
                    {"endpoint", "start", "dev", "--tenant", "t"},
            };
            for (String[] c : commands) {
                Main.run(env, new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter()), c);
            }
            // nothing listens on port 1: the "cannot reach" path
            Main.run(Map.of("FORKLINE_URL", "http://127.0.0.1:1"), new PrintWriter(new StringWriter()),
                    new PrintWriter(new StringWriter()), "branch", "list", "--tenant", "t");
            t.interrupt();
        }
    }

    /** Answers each connection's requests (keep-alive) until the socket closes. */
    private static void serve(ServerSocket server) {
        while (!server.isClosed()) {
            try (Socket s = server.accept()) {
                InputStream in = s.getInputStream();
                OutputStream out = s.getOutputStream();
                String head;
                while ((head = readHead(in)) != null) {
                    int length = 0;
                    for (String line : head.split("\r\n")) {
                        if (line.regionMatches(true, 0, "Content-Length:", 0, 15)) {
                            length = Integer.parseInt(line.substring(15).strip());
                        }
                    }
                    in.readNBytes(length);
                    byte[] body = (head.startsWith("GET ") ? "[" + BRANCH + "," + BRANCH + "]" : BRANCH)
                            .getBytes(StandardCharsets.UTF_8);
                    out.write(("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + body.length
                            + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                    out.write(body);
                    out.flush();
                }
            } catch (IOException e) {
                // closed: training is over
            }
        }
    }

    /** The request line and headers up to the blank line, or {@code null} at end of stream. */
    private static String readHead(InputStream in) throws IOException {
        StringBuilder b = new StringBuilder();
        int c;
        while ((c = in.read()) >= 0) {
            b.append((char) c);
            if (b.length() >= 4 && b.lastIndexOf("\r\n\r\n") == b.length() - 4) {
                return b.toString();
            }
        }
        return null;
    }
}
