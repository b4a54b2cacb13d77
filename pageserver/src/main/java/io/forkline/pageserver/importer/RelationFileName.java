package io.forkline.pageserver.importer;

import io.forkline.storage.key.RelTag;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A parsed relation file name inside a database directory:
 * {@code <relfilenode>[_fsm|_vm|_init][.<segno>]} ({@code src/common/relpath.c}, {@code md.c}
 * segment naming). Other files ({@code PG_VERSION}, {@code pg_filenode.map},
 * {@code pg_internal.init}, temporary {@code t<n>_<m>} files) do not parse.
 *
 * @param relNumber relfilenode (unsigned 32-bit)
 * @param forkNum   {@link RelTag#MAIN_FORK} .. {@link RelTag#INIT_FORK}
 * @param segNo     segment number, 0 for the file without a {@code .N} suffix
 */
public record RelationFileName(int relNumber, int forkNum, int segNo) {
    private static final Pattern NAME = Pattern.compile("([0-9]{1,10})(_fsm|_vm|_init)?(?:\\.([0-9]{1,9}))?");

    /**
     * Parses {@code name}.
     *
     * @return the parsed name, or {@code null} when it is not a relation file name (or the number
     *         exceeds 32 bits, or a segment suffix is {@code .0})
     */
    public static RelationFileName parse(String name) {
        Matcher m = NAME.matcher(name);
        if (!m.matches()) {
            return null;
        }
        long rel = Long.parseLong(m.group(1));
        if (rel == 0 || rel > 0xFFFFFFFFL) {
            return null;
        }
        int fork = m.group(2) == null ? RelTag.MAIN_FORK : switch (m.group(2)) {
            case "_fsm" -> RelTag.FSM_FORK;
            case "_vm" -> RelTag.VM_FORK;
            default -> RelTag.INIT_FORK;
        };
        int seg = 0;
        if (m.group(3) != null) {
            seg = Integer.parseInt(m.group(3));
            if (seg == 0) {
                return null;
            }
        }
        return new RelationFileName((int) rel, fork, seg);
    }
}
