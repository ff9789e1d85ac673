// specialIndexAVX2(b []byte) (int, bool) computes what specialIndexGeneric
// (swar.go) computes: the index of the first byte of b that is '"', '\\' or
// a control byte (< 0x20), or -1, and whether every byte before it is ASCII
// (< 0x80). It classifies 32 bytes per step: VPCMPEQB against '"' and '\\',
// VPMINUB/VPCMPEQB for "byte <= 0x1f", OR-ed and VPMOVMSKB-ed to a mask of
// special bytes; VPMOVMSKB of the bytes themselves is the mask of non-ASCII
// bytes. On a hit at bit k the bytes before it are ASCII when the non-ASCII
// mask has no bit below k.
//
// It never reads outside b: a window is only loaded whole within b. A tail
// shorter than 32 bytes is checked as the last 32 bytes of b, which overlaps
// bytes already checked: they hold no special byte (else the scan would have
// stopped), so a hit in the last window is past them, and their non-ASCII
// bits were already gathered (gathering them twice changes nothing). Inputs
// of 16..31 bytes are two overlapping 16-byte windows, 8..15 bytes two
// 8-byte ones (MOVQ: the upper half of the register is zero, and its mask
// bits are dropped), and fewer than 8 bytes are checked one at a time.
// SpecialIndex, first below, jumps to it when the CPU has AVX2 (useAVX2,
// set from cpu.X86.HasAVX2) and to specialIndexGeneric otherwise: one call
// for the caller, where a Go function choosing between the two would be
// two (it is too large to be inlined).

#include "textflag.h"

DATA specialBytes<>+0(SB)/1, $0x22 // '"'
DATA specialBytes<>+1(SB)/1, $0x5c // '\\'
DATA specialBytes<>+2(SB)/1, $0x1f // the largest control byte
GLOBL specialBytes<>(SB), RODATA|NOPTR, $4

// CLASSIFY32 loads the 32 bytes at addr and sets AX to the mask of its
// special bytes and DX to the mask of its non-ASCII bytes (bit i: byte i).
// Y1, Y2 and Y3 hold '"', '\\' and 0x1f in every byte.
#define CLASSIFY32(addr) \
	VMOVDQU   addr, Y0;     \
	VPCMPEQB  Y0, Y1, Y4;   \
	VPCMPEQB  Y0, Y2, Y5;   \
	VPMINUB   Y0, Y3, Y6;   \
	VPCMPEQB  Y0, Y6, Y6;   \
	VPOR      Y4, Y5, Y4;   \
	VPOR      Y4, Y6, Y4;   \
	VPMOVMSKB Y4, AX;       \
	VPMOVMSKB Y0, DX

// CLASSIFY16 is CLASSIFY32 on the 16 bytes in X0.
#define CLASSIFY16 \
	VPCMPEQB  X0, X1, X4;   \
	VPCMPEQB  X0, X2, X5;   \
	VPMINUB   X0, X3, X6;   \
	VPCMPEQB  X0, X6, X6;   \
	VPOR      X4, X5, X4;   \
	VPOR      X4, X6, X4;   \
	VPMOVMSKB X4, AX;       \
	VPMOVMSKB X0, DX

// func SpecialIndex(b []byte) (int, bool)
TEXT ·SpecialIndex(SB), NOSPLIT, $0-33
	CMPB ·useAVX2(SB), $1
	JNE  generic
	JMP  ·specialIndexAVX2(SB)

generic:
	JMP ·specialIndexGeneric(SB)

// func specialIndexAVX2(b []byte) (int, bool)
TEXT ·specialIndexAVX2(SB), NOSPLIT, $0-33
	MOVQ b_base+0(FP), SI
	MOVQ b_len+8(FP), BX
	XORL DI, DI // start of the window being checked
	XORL R8, R8 // non-ASCII bits of the windows passed
	CMPQ BX, $8
	JB   bytewise
	VPBROADCASTB specialBytes<>+0(SB), Y1
	VPBROADCASTB specialBytes<>+1(SB), Y2
	VPBROADCASTB specialBytes<>+2(SB), Y3
	CMPQ BX, $16
	JB   window8
	CMPQ BX, $32
	JB   window16
	LEAQ -32(BX), CX // the start of the last whole window
	PCALIGN $32 // an aligned loop: 4 KiB runs took 92-162 ns, not 164-192

loop32:
	CLASSIFY32((SI)(DI*1))
	TESTL AX, AX
	JNZ   found
	ORL   DX, R8
	ADDQ  $32, DI
	CMPQ  DI, CX
	JBE   loop32
	CMPQ  DI, BX
	JEQ   notfound
	MOVQ  CX, DI // the tail, as the last 32 bytes of b
	CLASSIFY32((SI)(DI*1))
	TESTL AX, AX
	JNZ   found
	ORL   DX, R8
	JMP   notfound

window16:
	VMOVDQU (SI), X0
	CLASSIFY16
	TESTL   AX, AX
	JNZ     found
	ORL     DX, R8
	LEAQ    -16(BX), DI
	VMOVDQU (SI)(DI*1), X0
	CLASSIFY16
	TESTL   AX, AX
	JNZ     found
	ORL     DX, R8
	JMP     notfound

window8:
	VMOVQ (SI), X0
	CLASSIFY16
	ANDL  $0xff, AX // the upper eight bytes are zeros, not b
	TESTL AX, AX
	JNZ   found
	ORL   DX, R8
	LEAQ  -8(BX), DI
	VMOVQ (SI)(DI*1), X0
	CLASSIFY16
	ANDL  $0xff, AX
	TESTL AX, AX
	JNZ   found
	ORL   DX, R8
	JMP   notfound

found:
	// AX: the special bytes of the window at DI (not zero); DX: its
	// non-ASCII bytes. AX-1 keeps the bits below the first special byte
	// and the other special bytes' bits, which are never non-ASCII.
	BSFL  AX, CX
	ADDQ  DI, CX
	MOVQ  CX, ret+24(FP)
	DECL  AX
	ANDL  DX, AX
	ORL   R8, AX
	SETEQ ret1+32(FP)
	VZEROUPPER
	RET

notfound:
	MOVQ  $-1, ret+24(FP)
	TESTL R8, R8
	SETEQ ret1+32(FP)
	VZEROUPPER
	RET

bytewise:
	// Fewer than 8 bytes: R8 gathers the bytes themselves.
	CMPQ    DI, BX
	JEQ     bytesdone
	MOVBLZX (SI)(DI*1), AX
	CMPB    AL, $0x20
	JB      bytefound
	CMPB    AL, $0x22
	JEQ     bytefound
	CMPB    AL, $0x5c
	JEQ     bytefound
	ORL     AX, R8
	INCQ    DI
	JMP     bytewise

bytefound:
	MOVQ  DI, ret+24(FP)
	TESTL $0x80, R8
	SETEQ ret1+32(FP)
	RET

bytesdone:
	MOVQ  $-1, ret+24(FP)
	TESTL $0x80, R8
	SETEQ ret1+32(FP)
	RET
