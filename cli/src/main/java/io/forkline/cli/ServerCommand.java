package io.forkline.cli;

import picocli.CommandLine.Model.CommandSpec;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

import static io.forkline.cli.Specs.option;

/**
 * {@code forkline server [--data-dir DIR] [--port PORT] [--page-port PORT] [--pg-port PORT] [--pg-host HOST]
 * [--tls-cert FILE --tls-key FILE] [--auth on|off]}: runs the server in the foreground until
 * SIGTERM/SIGINT, with its Postgres proxy on {@code --pg-port} (TLS from the given files, else a
 * self-signed certificate in {@code DIR/tls}). With {@code --auth on} (the default) every admin API
 * request but {@code GET /v1/status} needs a token; the admin token is in {@code DIR/auth/admin.token}
 * and in the client token file of the port ({@code ~/.config/forkline/tokens/127.0.0.1_PORT}).
 */
final class ServerCommand implements CliCommand, Callable<Integer> {
    Path dataDir;

    int port;

    int pagePort;

    int pgPort;

    String pgHost;

    Path tlsCert;

    Path tlsKey;

    String auth;

    String computeNode;

    Path computeNodeCert;

    @Override
    public CommandSpec spec() {
        CommandSpec spec = Specs.command(this, "Run the Forkline server in the foreground.");
        spec.addOption(option(Path.class, () -> dataDir, v -> dataDir = v, "--data-dir").defaultValue(".forkline/data")
                .description("data directory (default: ${DEFAULT-VALUE})").paramLabel("<dataDir>").build());
        spec.addOption(option(int.class, () -> port, v -> port = v, "--port").defaultValue("9898")
                .description("admin API port on 127.0.0.1 (default: ${DEFAULT-VALUE})").paramLabel("<port>").build());
        spec.addOption(option(int.class, () -> pagePort, v -> pagePort = v, "--page-port").defaultValue("6400")
                .description("page service port on 127.0.0.1 (default: ${DEFAULT-VALUE})").paramLabel("<pagePort>").build());
        spec.addOption(option(int.class, () -> pgPort, v -> pgPort = v, "--pg-port").paramLabel("PORT").defaultValue("55432")
                .description("port of the Postgres proxy (one port for every branch; connection strings point at it; "
                        + "0 = any free port) (default: ${DEFAULT-VALUE})").build());
        spec.addOption(option(String.class, () -> pgHost, v -> pgHost = v, "--pg-host").paramLabel("HOST")
                .defaultValue("127.0.0.1")
                .description("host printed in connection strings (default: ${DEFAULT-VALUE})").build());
        spec.addOption(option(Path.class, () -> tlsCert, v -> tlsCert = v, "--tls-cert").paramLabel("FILE")
                .description("PEM certificate (chain) of the Postgres proxy's TLS "
                        + "(default: a self-signed one generated in DIR/tls at first start)").build());
        spec.addOption(option(Path.class, () -> tlsKey, v -> tlsKey = v, "--tls-key").paramLabel("FILE")
                .description("PEM (PKCS#8) private key of --tls-cert").build());
        spec.addOption(option(String.class, () -> auth, v -> auth = v, "--auth").paramLabel("on|off").defaultValue("on")
                .description("check tokens (default: ${DEFAULT-VALUE}); off: "
                        + "every client is admin, for local experiments only").build());
        spec.addOption(option(String.class, () -> computeNode, v -> computeNode = v, "--compute-node").paramLabel("URL")
                .description("run computes on the compute node at URL "
                        + "(https://HOST:PORT of `forkline compute-node`, started with this server's admin token) instead of in this process tree").build());
        spec.addOption(option(Path.class, () -> computeNodeCert, v -> computeNodeCert = v, "--compute-node-cert").paramLabel("FILE")
                .description("the compute node's certificate (PEM, a copy of its DIR/tls/compute.crt): the only one "
                        + "its API and its computes may present").build());
        return spec;
    }

    @Override
    public Integer call() throws Exception {
        if (computeNode != null) {
            java.net.URI u;
            try {
                u = java.net.URI.create(computeNode.strip());
            } catch (IllegalArgumentException e) {
                u = null;
            }
            if (u != null && "http".equals(u.getScheme())) {
                throw new CliException("invalid --compute-node '" + computeNode + "': the compute node API is HTTPS "
                        + "(https://HOST:PORT, with --compute-node-cert)");
            }
            if (u == null || !"https".equals(u.getScheme()) || u.getHost() == null || u.getPort() <= 0) {
                throw new CliException("invalid --compute-node '" + computeNode + "': expected https://HOST:PORT");
            }
            if (computeNodeCert == null) {
                throw new CliException("--compute-node needs --compute-node-cert FILE (the node prints its certificate's "
                        + "path at start)");
            }
            if (!java.nio.file.Files.isReadable(computeNodeCert)) {
                throw new CliException("invalid --compute-node-cert '" + computeNodeCert + "': not a readable file");
            }
            System.setProperty("forkline.compute.node", computeNode.strip()); // RemoteComputeNode.PROPERTY
            System.setProperty("forkline.compute.node.cert", computeNodeCert.toAbsolutePath().toString()); // CERT_PROPERTY
        } else if (computeNodeCert != null) {
            throw new CliException("--compute-node-cert goes with --compute-node");
        }
        if (port < 0 || port > 65535) {
            throw new CliException("invalid --port " + port + ": expected 0..65535");
        }
        if (pagePort < 0 || pagePort > 65535) {
            throw new CliException("invalid --page-port " + pagePort + ": expected 0..65535");
        }
        if (pgPort < 0 || pgPort > 65535) {
            throw new CliException("invalid --pg-port " + pgPort + ": expected 0..65535");
        }
        if (pgHost == null || pgHost.isBlank() || !pgHost.strip().matches("[A-Za-z0-9._:\\[\\]-]+")) {
            throw new CliException("invalid --pg-host '" + pgHost + "': expected a host name or IP address");
        }
        if ((tlsCert == null) != (tlsKey == null)) {
            throw new CliException("--tls-cert and --tls-key go together, got only " + (tlsCert == null ? "--tls-key " + tlsKey
                    : "--tls-cert " + tlsCert));
        }
        if (tlsCert != null) {
            for (Path f : new Path[]{tlsCert, tlsKey}) {
                if (!java.nio.file.Files.isReadable(f)) {
                    throw new CliException("invalid TLS file " + f + ": it does not exist or is not readable");
                }
            }
            System.setProperty("forkline.pg.tls.cert", tlsCert.toAbsolutePath().toString()); // PostgresProxySettings
            System.setProperty("forkline.pg.tls.key", tlsKey.toAbsolutePath().toString());
        }
        System.setProperty("forkline.pg.port", Integer.toString(pgPort)); // ConnectionStrings.PORT_PROPERTY
        System.setProperty("forkline.pg.host", pgHost.strip()); // ConnectionStrings.HOST_PROPERTY
        boolean authOn = switch (auth == null ? "" : auth.strip().toLowerCase(Locale.ROOT)) {
            case "on" -> true;
            case "off" -> false;
            default -> throw new CliException("invalid --auth '" + auth + "': expected on or off");
        };
        try {
            LocalRuntime.load().runServer(dataDir, port, pagePort, authOn);
        } catch (java.io.IOException e) {
            throw new CliException(e.getMessage());
        }
        return 0;
    }
}
