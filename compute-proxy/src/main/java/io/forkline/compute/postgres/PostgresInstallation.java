package io.forkline.compute.postgres;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.UserPrincipal;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The machine's PostgreSQL 15 binaries ({@code initdb}, {@code postgres}, {@code pg_ctl}, {@code psql},
 * {@code pgbench}, ...), and how to run them.
 *
 * <p>Found in {@code $FORKLINE_PG_BIN}, else {@code /usr/lib/postgresql/15/bin} (Debian's
 * {@code postgresql-15}). {@code initdb} and {@code postgres} refuse to run as root, so when this
 * JVM runs as root every tool runs as the unprivileged {@code $FORKLINE_PG_USER} (default
 * {@code postgres}), and the directories it writes are handed to that user. The switch is util-linux's
 * {@code setpriv --reuid --regid --init-groups} followed by {@code env HOME=.. USER=.. LOGNAME=..}
 * (an exec, no PAM session: {@code runuser}'s PAM session costs 0.2-0.6 s per tool on a loaded
 * 2-core machine, paid by every compute start); {@code runuser -u USER --} when there is no setpriv.
 * Thread-safe.
 */
public final class PostgresInstallation {
    /** The only major version Forkline's WAL decoder and basebackup support. */
    public static final int MAJOR_VERSION = 15;

    private static final Path SETPRIV = Path.of("/usr/bin/setpriv");

    private final Path binDir;
    private final String runAsUser;
    /** The run-as user's passwd entry, when running as root. */
    private final Account account;

    /** What setpriv and chown need of the run-as user: {@code getent passwd} and its primary group's name. */
    private record Account(int uid, int gid, String home, String groupName) {
        static Account of(String user) {
            String[] f = runCommand(Duration.ofSeconds(10), List.of("getent", "passwd", user)).trim().split(":", -1);
            if (f.length < 7) {
                throw new PostgresException("cannot read the passwd entry of user '" + user + "': " + String.join(":", f));
            }
            String group = runCommand(Duration.ofSeconds(10), List.of("id", "-gn", user)).trim();
            return new Account(Integer.parseInt(f[2]), Integer.parseInt(f[3]), f[5], group.isEmpty() ? user : group);
        }
    }

    private PostgresInstallation(Path binDir, String runAsUser) {
        this.binDir = binDir;
        this.runAsUser = runAsUser;
        this.account = runAsUser == null ? null : Account.of(runAsUser);
    }

    /**
     * Locates the binaries and checks their version.
     *
     * @throws PostgresException naming the directory when no PostgreSQL 15 server is there, or the
     *                           user when running as root and it does not exist
     */
    public static PostgresInstallation detect() {
        String env = System.getenv("FORKLINE_PG_BIN");
        Path bin = Path.of(env != null && !env.isBlank() ? env : "/usr/lib/postgresql/15/bin");
        if (!Files.isExecutable(bin.resolve("postgres")) || !Files.isExecutable(bin.resolve("initdb"))) {
            throw new PostgresException("no PostgreSQL " + MAJOR_VERSION + " server binaries in " + bin
                    + " (install Debian's postgresql-15, or set FORKLINE_PG_BIN)");
        }
        String user = null;
        if (isRoot()) {
            String u = System.getenv("FORKLINE_PG_USER");
            user = u != null && !u.isBlank() ? u : "postgres";
            try {
                bin.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName(user);
            } catch (IOException e) {
                throw new PostgresException("running as root, and the unprivileged user '" + user
                        + "' that initdb/postgres must run as does not exist (set FORKLINE_PG_USER)");
            }
        }
        PostgresInstallation pg = new PostgresInstallation(bin, user);
        String version = pg.run(Duration.ofSeconds(30), "postgres", "--version").trim();
        if (!version.matches(".*\\(PostgreSQL\\) " + MAJOR_VERSION + "\\..*")) {
            throw new PostgresException("PostgreSQL in " + bin + " is '" + version + "', Forkline needs " + MAJOR_VERSION);
        }
        return pg;
    }

    /** Whether this JVM runs as uid 0. */
    public static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    /** The directory of the binaries. */
    public Path binDir() {
        return binDir;
    }

    /** The user tools run as, or {@code null} when they run as this JVM's user. */
    public String runAsUser() {
        return runAsUser;
    }

    /** Absolute path of one tool, e.g. {@code bin("pgbench")}. */
    public Path bin(String tool) {
        return binDir.resolve(tool);
    }

    /**
     * A command line that runs {@code tool} with {@code args} as the right user. The result is a
     * fresh mutable list.
     */
    public List<String> command(String tool, String... args) {
        List<String> cmd = new ArrayList<>();
        if (runAsUser != null && Files.isExecutable(SETPRIV)) {
            cmd.addAll(List.of(SETPRIV.toString(), "--reuid=" + account.uid(), "--regid=" + account.gid(), "--init-groups",
                    "env", "HOME=" + account.home(), "USER=" + runAsUser, "LOGNAME=" + runAsUser));
        } else if (runAsUser != null) {
            cmd.add("runuser");
            cmd.add("-u");
            cmd.add(runAsUser);
            cmd.add("--");
        }
        cmd.add(bin(tool).toString());
        cmd.addAll(List.of(args));
        return cmd;
    }

    /**
     * Runs a tool to completion and returns its standard output.
     *
     * @throws PostgresException with the exit code and standard error when it fails or times out
     */
    public String run(Duration timeout, String tool, String... args) {
        return runCommand(timeout, command(tool, args));
    }

    /**
     * Runs any command line to completion and returns its standard output.
     *
     * @throws PostgresException with the exit code and standard error when it fails or times out
     */
    public static String runCommand(Duration timeout, List<String> cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .start();
            CompletableFuture<String> out = drain(p.getInputStream());
            CompletableFuture<String> err = drain(p.getErrorStream());
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                throw new PostgresException(String.join(" ", cmd) + " did not finish within " + timeout);
            }
            if (p.exitValue() != 0) {
                throw new PostgresException(String.join(" ", cmd) + " failed with exit code " + p.exitValue() + ": "
                        + err.join().trim());
            }
            return out.join();
        } catch (IOException e) {
            throw new PostgresException("cannot run " + String.join(" ", cmd) + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PostgresException("interrupted while running " + String.join(" ", cmd), e);
        }
    }

    /**
     * Reads {@code in} to its end on a thread of its own: not the common fork-join pool, which has a
     * single thread on a 2-core machine, so that one long-running command (a client waiting for a
     * compute) would hold up every other command's output, including the compute's own start.
     */
    private static CompletableFuture<String> drain(InputStream in) {
        CompletableFuture<String> out = new CompletableFuture<>();
        Thread.ofPlatform().daemon().name("command-output").start(() -> {
            try (in) {
                out.complete(new String(in.readAllBytes(), StandardCharsets.UTF_8));
            } catch (IOException e) {
                out.complete("");
            }
        });
        return out;
    }

    /**
     * Creates {@code dir} if needed and makes it usable as a data directory (or a place a tool
     * writes to): owned by the run-as user, mode 0700, every ancestor traversable by that user.
     *
     * @throws PostgresException when ownership or permissions cannot be set
     */
    public void prepareDirectory(Path dir) {
        prepareDirectoryShallow(dir);
        chownRecursively(dir);
    }

    /**
     * As {@link #prepareDirectory}, without handing the files under {@code dir} over: for a directory
     * whose files already belong to the run-as user.
     *
     * @throws PostgresException when ownership or permissions cannot be set
     */
    public void prepareDirectoryShallow(Path dir) {
        try {
            Files.createDirectories(dir);
            Files.setPosixFilePermissions(dir, EnumSet.of(PosixFilePermission.OWNER_READ,
                    PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_EXECUTE));
            if (runAsUser != null) {
                makeAncestorsTraversable(dir.toAbsolutePath());
            }
        } catch (IOException e) {
            throw new PostgresException("cannot prepare directory " + dir + " for user " + runAsUser + ": " + e, e);
        }
    }

    /**
     * Hands every file under {@code dir} to the run-as user (no-op when not root).
     *
     * @throws PostgresException when a file cannot be changed
     */
    public void chownRecursively(Path dir) {
        if (runAsUser == null) {
            return;
        }
        try {
            UserPrincipalLookupService lookup = dir.getFileSystem().getUserPrincipalLookupService();
            UserPrincipal user = lookup.lookupPrincipalByName(runAsUser);
            GroupPrincipal group = lookup.lookupPrincipalByGroupName(account.groupName());
            try (Stream<Path> paths = Files.walk(dir)) {
                for (Path p : (Iterable<Path>) paths::iterator) {
                    PosixFileAttributeView view = Files.getFileAttributeView(p, PosixFileAttributeView.class,
                            java.nio.file.LinkOption.NOFOLLOW_LINKS);
                    // one stat instead of two chowns for what already belongs to the user (a lazy
                    // data directory's files, a directory prepared before): each is a FUSE round trip there
                    java.nio.file.attribute.PosixFileAttributes a = view.readAttributes();
                    if (!a.owner().equals(user)) {
                        view.setOwner(user);
                    }
                    if (!a.group().equals(group)) {
                        view.setGroup(group);
                    }
                }
            }
        } catch (IOException e) {
            throw new PostgresException("cannot give " + dir + " to user " + runAsUser + ": " + e, e);
        }
    }

    private static void makeAncestorsTraversable(Path dir) throws IOException {
        for (Path p = dir.getParent(); p != null; p = p.getParent()) {
            Set<PosixFilePermission> perms = Files.getPosixFilePermissions(p);
            if (!perms.contains(PosixFilePermission.OTHERS_EXECUTE)) {
                perms.add(PosixFilePermission.OTHERS_EXECUTE);
                Files.setPosixFilePermissions(p, perms);
            }
        }
    }
}
