package io.forkline.compute.bpf;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds an eBPF program ({@link BpfAsm}'s {@code struct bpf_insn}s, in the host's byte order) with
 * forward jumps to named labels, resolved by {@link #bytes}. Not thread-safe; one per program.
 */
public final class BpfAssembler {
    private final List<byte[]> insns = new ArrayList<>();
    private final Map<String, Integer> labels = new HashMap<>();
    private final Map<Integer, String> jumps = new HashMap<>();

    /** One instruction. */
    public void op(int code, int dst, int src, int off, int imm) {
        ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.nativeOrder());
        BpfAsm.insn(b, code, dst, src, off, imm);
        insns.add(b.array());
    }

    /** {@code dst = map fd} (two instruction slots, {@link BpfAsm#ldMapFd}). */
    public void ldMapFd(int dst, int mapFd) {
        ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.nativeOrder());
        BpfAsm.ldMapFd(b, dst, mapFd);
        insns.add(Arrays.copyOfRange(b.array(), 0, 8));
        insns.add(Arrays.copyOfRange(b.array(), 8, 16));
    }

    /** A jump to {@code label} whose register compares with {@code immOrSrc} (an immediate, or for {@code _X} codes a register). */
    public void jump(int code, int dst, int immOrSrc, String label) {
        jumps.put(insns.size(), label);
        boolean x = (code & 0x08) != 0; // BPF_X
        op(code, dst, x ? immOrSrc : 0, 0, x ? 0 : immOrSrc);
    }

    /** Names the next instruction. */
    public void label(String name) {
        labels.put(name, insns.size());
    }

    /**
     * The program, jumps resolved.
     *
     * @throws IllegalStateException naming a label jumped to but never placed
     */
    public byte[] bytes() {
        ByteBuffer out = ByteBuffer.allocate(insns.size() * 8).order(ByteOrder.nativeOrder());
        for (int i = 0; i < insns.size(); i++) {
            byte[] insn = insns.get(i).clone();
            String target = jumps.get(i);
            if (target != null) {
                Integer at = labels.get(target);
                if (at == null) {
                    throw new IllegalStateException("no label " + target);
                }
                ByteBuffer.wrap(insn).order(ByteOrder.nativeOrder()).putShort(2, (short) (at - i - 1));
            }
            out.put(insn);
        }
        return out.array();
    }
}
