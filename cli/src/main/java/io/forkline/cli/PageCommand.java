package io.forkline.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.forkline.page.client.PageClientConfig;
import io.forkline.page.client.PageHeader;
import io.forkline.page.client.PageServiceClient;
import io.forkline.page.client.PageServiceException;
import io.forkline.page.client.ReadLsn;
import io.forkline.page.protocol.PageProtocol;
import io.forkline.page.protocol.proto.RelTag;
import io.forkline.page.protocol.proto.RelationEntry;
import picocli.CommandLine.Model.CommandSpec;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

import static io.forkline.cli.Specs.option;

/**
 * {@code forkline page get|ls}: an operator's view of pages, fetched over the page service (like
 * Neon's {@code pagectl}). The page service's address is {@code --pageserver HOST:PORT}, else
 * {@code $FORKLINE_PAGESERVER}, else the host of {@code FORKLINE_URL} with the {@code page_port}
 * its {@code GET /v1/status} reports; the token is the admin API's ({@code FORKLINE_TOKEN} or the
 * token file of {@code FORKLINE_URL}).
 */
final class PageCommand implements CliCommand {
    private static final List<String> FORKS = List.of("main", "fsm", "vm", "init");

    @Override
    public CommandSpec spec() {
        return Specs.command(this, "Read pages over the page service (for operators).");
    }

    @Override
    public java.util.List<Sub> subcommands() {
        return java.util.List.of(new Sub("get", PageCommand.Get::new), new Sub("ls", PageCommand.Ls::new));
    }


    /** What both subcommands share: tenant, branch, LSN, where the page service is. */
    abstract static class PageServiceCommand extends ApiCommand {
        final TenantOption tenant = new TenantOption();

        String branch;

        String lsn;

        String pageserver;

        /** Starts the subcommand's model with the shared options (first, as picocli put a superclass's). */
        final CommandSpec pageCommand(String description) {
            CommandSpec spec = command(description);
            tenant.addTo(spec);
            spec.addOption(option(String.class, () -> branch, v -> branch = v, "--branch").paramLabel("REF")
                    .defaultValue("main")
                    .description("branch to read (default: ${DEFAULT-VALUE})").build());
            spec.addOption(option(String.class, () -> lsn, v -> lsn = v, "--lsn").paramLabel("X/Y")
                    .description("read at this LSN (default: the branch's last record LSN)").build());
            spec.addOption(option(String.class, () -> pageserver, v -> pageserver = v, "--pageserver")
                    .paramLabel("HOST:PORT")
                    .description("page service address (default: $FORKLINE_PAGESERVER, else FORKLINE_URL's host and "
                            + "the page_port of its /v1/status)").build());
            return spec;
        }

        ReadLsn readLsn() {
            return lsn == null ? ReadLsn.latest() : ReadLsn.at(parseLsn(lsn));
        }

        PageServiceClient connect() {
            String addr = pageserver != null ? pageserver : Main.env(spec).get("FORKLINE_PAGESERVER");
            String host;
            int port;
            if (addr != null && !addr.isBlank()) {
                int colon = addr.lastIndexOf(':');
                if (colon <= 0) {
                    throw new CliException("invalid page service address '" + addr + "': expected HOST:PORT");
                }
                host = addr.substring(0, colon);
                try {
                    port = Integer.parseInt(addr.substring(colon + 1));
                } catch (NumberFormatException e) {
                    throw new CliException("invalid page service port in '" + addr + "': expected HOST:PORT");
                }
            } else {
                host = URI.create(client().base()).getHost();
                JsonNode status = client().get("/v1/status");
                port = status.path("page_port").asInt(PageProtocol.DEFAULT_PORT);
            }
            String token = client().token();
            try {
                return PageServiceClient.connect(PageClientConfig.of(host, port, tenant.name(), null, branch,
                        token == null ? "" : token));
            } catch (PageServiceException | IllegalArgumentException e) {
                throw new CliException(e.getMessage());
            }
        }

        static <T> T await(java.util.concurrent.CompletableFuture<T> f) {
            try {
                return PageServiceClient.await(f);
            } catch (PageServiceException e) {
                throw new CliException(e.getMessage());
            }
        }
    }

    static final class Get extends PageServiceCommand {
        String rel;

        String fork;

        long block;

        Path outFile;

        @Override
        public CommandSpec spec() {
            CommandSpec spec = pageCommand("Fetch one page: 8192 bytes to --out, or a summary of its header.");
            spec.addOption(option(String.class, () -> rel, v -> rel = v, "--rel").paramLabel("SPC/DB/REL").required(true)
                    .description("relation: tablespace OID / database OID / relfilenode, e.g. 1663/5/16384").build());
            spec.addOption(option(String.class, () -> fork, v -> fork = v, "--fork").paramLabel("FORK").defaultValue("main")
                    .description("main, fsm, vm or init (default: ${DEFAULT-VALUE})").build());
            spec.addOption(option(long.class, () -> block, v -> block = v, "--block").paramLabel("N").required(true)
                    .description("block number").build());
            spec.addOption(option(Path.class, () -> outFile, v -> outFile = v, "--out").paramLabel("FILE")
                    .description("write the 8192 bytes here").build());
            return spec;
        }

        @Override
        public void run() {
            RelTag tag = parseRel(rel, fork);
            if (block < 0 || block > 0xFFFF_FFFEL) {
                throw new CliException("invalid --block " + block + ": expected 0 to 4294967294");
            }
            if (outFile != null && outFile.toAbsolutePath().getParent() != null
                    && !Files.isDirectory(outFile.toAbsolutePath().getParent())) {
                throw new CliException("cannot write --out " + outFile + ": directory "
                        + outFile.toAbsolutePath().getParent() + " does not exist");
            }
            try (PageServiceClient c = connect()) {
                byte[] page = await(c.getPage(tag, (int) block, readLsn()));
                if (outFile != null) {
                    try {
                        Files.write(outFile, page);
                    } catch (IOException e) {
                        throw new CliException("cannot write --out " + outFile + ": " + e.getMessage());
                    }
                    return;
                }
                printSummary(page);
            }
        }

        private void printSummary(byte[] page) {
            var o = out();
            if (PageHeader.isZero(page)) {
                o.println("all zeros (a new or never written page)");
                return;
            }
            PageHeader h = PageHeader.decode(page);
            o.printf(Locale.ROOT, "pd_lsn %X/%X  pd_checksum %d  pd_flags 0x%04x  pd_lower %d  pd_upper %d  pd_special %d"
                            + "  page size %d  layout version %d  pd_prune_xid %d%n",
                    h.lsn() >>> 32, h.lsn() & 0xFFFFFFFFL, h.checksum(), h.flags(), h.lower(), h.upper(), h.special(),
                    h.pageSize(), h.layoutVersion(), h.pruneXid());
            o.printf("line pointers: %d%n", h.linePointers().size());
            int i = 1;
            for (PageHeader.LinePointer lp : h.linePointers()) {
                o.printf(Locale.ROOT, "  %4d  off %5d  len %5d  %s%n", i++, lp.offset(), lp.length(), lp.flagName());
            }
        }
    }

    static final class Ls extends PageServiceCommand {
        String db;

        final JsonOption json = new JsonOption();

        @Override
        public CommandSpec spec() {
            CommandSpec spec = pageCommand("List relation forks with their sizes at an LSN.");
            spec.addOption(option(String.class, () -> db, v -> db = v, "--db").paramLabel("SPC/DB")
                    .description("only this database, e.g. 1663/5").build());
            json.addTo(spec);
            return spec;
        }

        @Override
        public void run() {
            int spc = 0;
            int dbOid = 0;
            if (db != null) {
                String[] p = db.split("/", -1);
                if (p.length != 2) {
                    throw new CliException("invalid --db '" + db + "': expected SPC/DB, e.g. 1663/5");
                }
                spc = oid(p[0], "--db", db);
                dbOid = oid(p[1], "--db", db);
            }
            try (PageServiceClient c = connect()) {
                var answer = c.listRelations(spc, dbOid, readLsn());
                List<RelationEntry> rels = await(answer);
                String lsnText = lsn != null ? lsn : formatLsn(c.session().getLastRecordLsn());
                JsonNodeFactory m = JsonNodeFactory.instance;
                ArrayNode arr = m.arrayNode();
                for (RelationEntry e : rels) {
                    RelTag r = e.getRel();
                    ObjectNode n = arr.addObject();
                    n.put("rel", Integer.toUnsignedString(r.getSpcOid()) + "/" + Integer.toUnsignedString(r.getDbOid())
                            + "/" + Integer.toUnsignedString(r.getRelNumber()));
                    n.put("fork", FORKS.get(r.getFork()));
                    n.put("nblocks", Integer.toUnsignedLong(e.getNblocks()));
                    n.put("bytes", Integer.toUnsignedLong(e.getNblocks()) * 8192);
                }
                ObjectNode doc = m.objectNode();
                doc.put("lsn", lsnText);
                doc.set("relations", arr);
                if (json.print(out(), doc)) {
                    return;
                }
                Table t = new Table(out(), "%-24s %-5s %10s %14s%n", "RELATION", "FORK", "BLOCKS", "BYTES");
                for (JsonNode n : arr) {
                    t.row(n.path("rel").asText(), n.path("fork").asText(), n.path("nblocks").asLong(),
                            n.path("bytes").asLong());
                }
                t.end();
                out().println(rels.size() + " relation forks at " + lsnText);
            }
        }
    }

    static RelTag parseRel(String rel, String fork) {
        String[] p = rel.split("/", -1);
        if (p.length != 3) {
            throw new CliException("invalid --rel '" + rel + "': expected SPC/DB/REL, e.g. 1663/5/16384");
        }
        int f = FORKS.indexOf(fork.toLowerCase(Locale.ROOT));
        if (f < 0) {
            throw new CliException("invalid --fork '" + fork + "': expected one of " + String.join(", ", FORKS));
        }
        return PageServiceClient.rel(oid(p[0], "--rel", rel), oid(p[1], "--rel", rel), oid(p[2], "--rel", rel), f);
    }

    private static int oid(String s, String option, String whole) {
        try {
            return Integer.parseUnsignedInt(s);
        } catch (NumberFormatException e) {
            throw new CliException("invalid " + option + " '" + whole + "': '" + s + "' is not an OID (0 to 4294967295)");
        }
    }

    /** {@code X/Y} as PostgreSQL prints it (hex halves) to a 64-bit position. */
    static long parseLsn(String text) {
        String[] p = text.split("/", -1);
        try {
            if (p.length == 2 && !p[0].isEmpty() && !p[1].isEmpty() && p[0].length() <= 8 && p[1].length() <= 8) {
                return (Long.parseLong(p[0], 16) << 32) | Long.parseLong(p[1], 16);
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw new CliException("invalid --lsn '" + text + "': expected X/Y in hex, e.g. 0/16B3748");
    }

    static String formatLsn(long lsn) {
        return String.format(Locale.ROOT, "%X/%X", lsn >>> 32, lsn & 0xFFFFFFFFL);
    }
}
