package io.forkline.compute.bpf;

import java.nio.ByteBuffer;

/**
 * eBPF instruction encoding shared by Forkline's programs: {@code struct bpf_insn} is
 * {@code u8 code | u4 dst_reg, u4 src_reg | s16 off | s32 imm}, 8 bytes, in the host's byte order.
 * Opcodes, helper ids and return codes are those of the kernel's {@code include/uapi/linux/bpf.h} and
 * {@code bpf_common.h}, composed as there (e.g. {@code BPF_ALU64 | BPF_MOV | BPF_X}).
 */
public final class BpfAsm {
    public static final int BPF_ALU64_MOV_X = 0xbf;  // BPF_ALU64 | BPF_MOV | BPF_X: dst = src
    public static final int BPF_ALU64_MOV_K = 0xb7;  // BPF_ALU64 | BPF_MOV | BPF_K: dst = imm
    public static final int BPF_ALU64_ADD_K = 0x07;  // BPF_ALU64 | BPF_ADD | BPF_K: dst += imm
    public static final int BPF_ALU64_ADD_X = 0x0f;  // BPF_ALU64 | BPF_ADD | BPF_X: dst += src
    public static final int BPF_ALU64_AND_K = 0x57;  // BPF_ALU64 | BPF_AND | BPF_K: dst &= imm
    public static final int BPF_ALU64_RSH_K = 0x77;  // BPF_ALU64 | BPF_RSH | BPF_K: dst >>= imm
    public static final int BPF_LDX_MEM_W = 0x61;    // BPF_LDX | BPF_MEM | BPF_W: dst = *(u32 *)(src + off)
    public static final int BPF_LDX_MEM_DW = 0x79;   // BPF_LDX | BPF_MEM | BPF_DW: dst = *(u64 *)(src + off)
    public static final int BPF_STX_MEM_W = 0x63;    // BPF_STX | BPF_MEM | BPF_W: *(u32 *)(dst + off) = src
    public static final int BPF_STX_MEM_DW = 0x7b;   // BPF_STX | BPF_MEM | BPF_DW: *(u64 *)(dst + off) = src
    public static final int BPF_LD_IMM64 = 0x18;     // BPF_LD | BPF_IMM | BPF_DW: dst = imm64 (two slots)
    public static final int BPF_JMP_JA = 0x05;       // BPF_JMP | BPF_JA: goto +off
    public static final int BPF_JMP_JEQ_K = 0x15;    // BPF_JMP | BPF_JEQ | BPF_K: if dst == imm goto +off
    public static final int BPF_JMP_JNE_K = 0x55;    // BPF_JMP | BPF_JNE | BPF_K: if dst != imm goto +off
    public static final int BPF_JMP_JGT_X = 0x2d;    // BPF_JMP | BPF_JGT | BPF_X: if dst > src (unsigned) goto +off
    public static final int BPF_JMP32_JNE_K = 0x56;  // BPF_JMP32 | BPF_JNE | BPF_K: if (u32) dst != imm goto +off
    public static final int BPF_JMP_JEQ_X = 0x1d;    // BPF_JMP | BPF_JEQ | BPF_X: if dst == src goto +off
    public static final int BPF_JMP_CALL = 0x85;     // BPF_JMP | BPF_CALL: r0 = helper imm(r1..r5)
    public static final int BPF_JMP_EXIT = 0x95;     // BPF_JMP | BPF_EXIT: return r0
    public static final int BPF_PSEUDO_MAP_FD = 1;   // src_reg of BPF_LD_IMM64: imm is a map fd
    // enum bpf_func_id
    public static final int BPF_FUNC_MAP_LOOKUP_ELEM = 1;
    public static final int BPF_FUNC_GET_CURRENT_PID_TGID = 14;
    public static final int BPF_FUNC_SOCK_HASH_UPDATE = 70;
    public static final int BPF_FUNC_MSG_REDIRECT_HASH = 71;
    // enum sk_action
    public static final int SK_PASS = 1;
    // registers: r0 return, r1-r5 arguments, r6-r9 callee-saved, r10 frame pointer
    public static final int R0 = 0, R1 = 1, R2 = 2, R3 = 3, R4 = 4, R5 = 5, R6 = 6, R7 = 7, R8 = 8, R10 = 10;

    private BpfAsm() {
    }

    /** {@code dst = map fd} as {@code BPF_LD_IMM64} with {@link #BPF_PSEUDO_MAP_FD} (two instruction slots). */
    public static void ldMapFd(ByteBuffer b, int dst, int mapFd) {
        insn(b, BPF_LD_IMM64, dst, BPF_PSEUDO_MAP_FD, 0, mapFd);
        insn(b, 0, 0, 0, 0, 0); // the upper 32 bits of the 64-bit immediate
    }

    /** One instruction. */
    public static void insn(ByteBuffer b, int code, int dst, int src, int off, int imm) {
        b.put((byte) code).put((byte) ((src << 4) | dst)).putShort((short) off).putInt(imm);
    }
}
