package io.forkline.compute.lazy;

import io.forkline.page.protocol.proto.RelTag;

/**
 * File names of relation forks in a data directory, as PostgreSQL's {@code relpath()}
 * ({@code src/common/relpath.c}): {@code global/REL}, {@code base/DB/REL}, or
 * {@code pg_tblspc/SPC/PG_15_202209061/DB/REL}, with {@code _fsm}, {@code _vm}, {@code _init}
 * for the other forks; segment {@code N > 0} adds {@code .N}.
 */
final class RelationPaths {
    static final int MAIN_FORK = 0;
    static final int FSM_FORK = 1;
    static final int INIT_FORK = 3;
    private static final int GLOBAL_TABLESPACE = 1664;
    private static final int DEFAULT_TABLESPACE = 1663;
    private static final String[] FORK_SUFFIX = {"", "_fsm", "_vm", "_init"};

    private RelationPaths() {
    }

    /** The first segment's path relative to the data directory. */
    static String path(RelTag r) {
        String rel = Integer.toUnsignedString(r.getRelNumber()) + FORK_SUFFIX[r.getFork()];
        if (r.getSpcOid() == GLOBAL_TABLESPACE) {
            return "global/" + rel;
        }
        String db = Integer.toUnsignedString(r.getDbOid());
        if (r.getSpcOid() == DEFAULT_TABLESPACE) {
            return "base/" + db + "/" + rel;
        }
        return "pg_tblspc/" + Integer.toUnsignedString(r.getSpcOid()) + "/PG_15_202209061/" + db + "/" + rel;
    }

    /** The relation, whatever the fork: {@code spc/db/rel}. */
    static String relationKey(RelTag r) {
        return r.getSpcOid() + "/" + r.getDbOid() + "/" + r.getRelNumber();
    }
}
