package io.forkline.pageserver.importer;

import io.forkline.storage.key.RelTag;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class RelationFileNameTest {
    @Test
    void parsesForksAndSegments() {
        assertThat(RelationFileName.parse("1259")).isEqualTo(new RelationFileName(1259, RelTag.MAIN_FORK, 0));
        assertThat(RelationFileName.parse("1259_fsm")).isEqualTo(new RelationFileName(1259, RelTag.FSM_FORK, 0));
        assertThat(RelationFileName.parse("16384_vm.2")).isEqualTo(new RelationFileName(16384, RelTag.VM_FORK, 2));
        assertThat(RelationFileName.parse("16390_init")).isEqualTo(new RelationFileName(16390, RelTag.INIT_FORK, 0));
        assertThat(RelationFileName.parse("16384.1")).isEqualTo(new RelationFileName(16384, RelTag.MAIN_FORK, 1));
        assertThat(RelationFileName.parse("4294967295").relNumber()).isEqualTo(-1);
    }

    @Test
    void ignoresOtherFiles() {
        for (String n : new String[] {"PG_VERSION", "pg_filenode.map", "pg_internal.init", "t3_16384", "16384.0",
                "4294967296", "0", "16384_foo", "16384."}) {
            assertThat(RelationFileName.parse(n)).as(n).isNull();
        }
    }
}
