#include "policy/bpf_check.h"

#include <linux/filter.h>
#include <linux/seccomp.h>

#include <cstddef>

#include "policy/wire.h"

namespace nestbox::policy {
namespace {

constexpr uint32_t kSeccompDataSize = sizeof(struct seccomp_data);
constexpr uint32_t kArchOffset = offsetof(struct seccomp_data, arch);

uint16_t get16(const uint8_t* p, bool be) {
  return be ? static_cast<uint16_t>(p[0] << 8 | p[1]) : static_cast<uint16_t>(p[1] << 8 | p[0]);
}
uint32_t get32(const uint8_t* p, bool be) {
  if (be) return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
  return uint32_t{p[3]} << 24 | uint32_t{p[2]} << 16 | uint32_t{p[1]} << 8 | p[0];
}

// Opcodes seccomp accepts (kernel/seccomp.c: seccomp_check_filter, and the
// classic BPF checker it runs first; no BPF_MOD, no packet loads). Returns a
// reason or nullptr. Not checked here: that scratch memory is stored before
// it is loaded — the kernel refuses such a program at load time, still
// before the container starts.
const char* check_insn(const BpfInsnValue& in, size_t pc, size_t n) {
  switch (in.code) {
    case BPF_LD | BPF_W | BPF_ABS:
      if (in.k >= kSeccompDataSize || (in.k & 3) != 0) return "load outside struct seccomp_data";
      return nullptr;
    case BPF_LD | BPF_W | BPF_LEN:
    case BPF_LDX | BPF_W | BPF_LEN:
    case BPF_LD | BPF_IMM:
    case BPF_LDX | BPF_IMM:
    case BPF_MISC | BPF_TAX:
    case BPF_MISC | BPF_TXA:
    case BPF_RET | BPF_K:
    case BPF_RET | BPF_A:
    case BPF_ALU | BPF_ADD | BPF_K: case BPF_ALU | BPF_ADD | BPF_X:
    case BPF_ALU | BPF_SUB | BPF_K: case BPF_ALU | BPF_SUB | BPF_X:
    case BPF_ALU | BPF_MUL | BPF_K: case BPF_ALU | BPF_MUL | BPF_X:
    case BPF_ALU | BPF_DIV | BPF_X:
    case BPF_ALU | BPF_AND | BPF_K: case BPF_ALU | BPF_AND | BPF_X:
    case BPF_ALU | BPF_OR | BPF_K:  case BPF_ALU | BPF_OR | BPF_X:
    case BPF_ALU | BPF_XOR | BPF_K: case BPF_ALU | BPF_XOR | BPF_X:
    case BPF_ALU | BPF_NEG:
      return nullptr;
    case BPF_ALU | BPF_DIV | BPF_K:
      return in.k == 0 ? "division by zero" : nullptr;
    case BPF_ALU | BPF_LSH | BPF_K: case BPF_ALU | BPF_RSH | BPF_K:
      return in.k >= 32 ? "shift by 32 or more" : nullptr;
    case BPF_ALU | BPF_LSH | BPF_X: case BPF_ALU | BPF_RSH | BPF_X:
      return nullptr;
    case BPF_LD | BPF_MEM:
    case BPF_LDX | BPF_MEM:
    case BPF_ST:
    case BPF_STX:
      return in.k >= BPF_MEMWORDS ? "scratch memory index out of range" : nullptr;
    case BPF_JMP | BPF_JA:
      return in.k >= n - pc - 1 ? "jump beyond the program" : nullptr;
    case BPF_JMP | BPF_JEQ | BPF_K: case BPF_JMP | BPF_JEQ | BPF_X:
    case BPF_JMP | BPF_JGE | BPF_K: case BPF_JMP | BPF_JGE | BPF_X:
    case BPF_JMP | BPF_JGT | BPF_K: case BPF_JMP | BPF_JGT | BPF_X:
    case BPF_JMP | BPF_JSET | BPF_K: case BPF_JMP | BPF_JSET | BPF_X:
      if (pc + 1 + in.jt >= n || pc + 1 + in.jf >= n) return "jump beyond the program";
      return nullptr;
    default:
      return "instruction not allowed in a seccomp filter";
  }
}

}  // namespace

BpfInsnValue bpf_insn(std::span<const uint8_t> program, size_t i, bool be) {
  const uint8_t* p = program.data() + i * wire::kBpfInsnSize;
  return BpfInsnValue{get16(p + offsetof(wire::BpfInsn, code), be), p[offsetof(wire::BpfInsn, jt)],
                      p[offsetof(wire::BpfInsn, jf)], get32(p + offsetof(wire::BpfInsn, k), be)};
}

BpfProblem check_seccomp_bpf(std::span<const uint8_t> program, const ArchInfo& arch) {
  if (program.size() % wire::kBpfInsnSize != 0) return {0, "length is not a multiple of 8"};
  size_t n = program.size() / wire::kBpfInsnSize;
  if (n == 0) return {0, "empty program"};
  if (n > wire::kMaxBpfInsns) return {0, "more than 4096 instructions"};
  for (size_t pc = 0; pc < n; ++pc) {
    const char* why = check_insn(bpf_insn(program, pc, arch.big_endian), pc, n);
    if (why) return {pc, why};
  }
  BpfInsnValue last = bpf_insn(program, n - 1, arch.big_endian);
  if (BPF_CLASS(last.code) != BPF_RET) return {n - 1, "program does not end with a return"};
  // Fail closed on foreign filters: the program must first load seccomp_data.arch
  // and compare it with this policy's architecture.
  if (n < 3) return {0, "program too short to check the architecture"};
  BpfInsnValue ld = bpf_insn(program, 0, arch.big_endian);
  if (ld.code != (BPF_LD | BPF_W | BPF_ABS) || ld.k != kArchOffset)
    return {0, "program does not start by loading seccomp_data.arch"};
  BpfInsnValue cmp = bpf_insn(program, 1, arch.big_endian);
  if (cmp.code != (BPF_JMP | BPF_JEQ | BPF_K) || cmp.k != arch.audit_arch)
    return {1, "program does not check the policy's architecture first"};
  return {};
}

}  // namespace nestbox::policy
