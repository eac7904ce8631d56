// Structural check of a classic BPF seccomp program, as the kernel's
// seccomp_check_filter() would do it, plus the architecture check nestbox
// requires at its start. Lets the device refuse a broken or foreign-arch
// filter before starting anything. Target-safe (libc only).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "policy/arch.h"

namespace nestbox::policy {

struct BpfProblem {
  size_t insn = 0;              // index of the offending instruction
  const char* what = nullptr;   // nullptr: the program is acceptable
};

// `program`: instructions in `arch`'s byte order, size a multiple of 8.
BpfProblem check_seccomp_bpf(std::span<const uint8_t> program, const ArchInfo& arch);

// Reads instruction `i` (no bounds check beyond the span's) in `arch`'s byte order.
struct BpfInsnValue {
  uint16_t code;
  uint8_t jt, jf;
  uint32_t k;
};
BpfInsnValue bpf_insn(std::span<const uint8_t> program, size_t i, bool big_endian);

}  // namespace nestbox::policy
