// How a cgroup v2 value is written on a cgroup v1 hierarchy. The launcher
// (v1/hybrid hosts) and the LXC config (lxc.cgroup.* keys) both convert with
// these, so a container gets the same limits whichever runs it.
#pragma once

#include <cstdint>
#include <optional>

namespace nestbox::policy {

// cpu.weight (1..10000) → cpu.shares (2..262144), as crun converts it.
constexpr uint64_t cpu_shares_from_weight(uint32_t weight) { return 2 + ((uint64_t(weight) - 1) * 262142) / 9999; }

// io.weight (1..10000) → blkio.weight (10..1000), as crun converts it.
constexpr uint64_t blkio_weight_from_io_weight(uint32_t weight) { return 10 + ((uint64_t(weight) - 1) * 990) / 9999; }

// memory + swap, as v1's memory.memsw.limit_in_bytes and OCI's memory.swap
// take it. The kernel and the runtimes read these as int64: nullopt when the
// sum would not fit, so that no caller writes a wrapped (smaller) limit.
constexpr std::optional<uint64_t> memory_plus_swap(uint64_t memory, uint64_t swap) {
  constexpr uint64_t kMax = INT64_MAX;
  if (memory > kMax || swap > kMax - memory) return std::nullopt;
  return memory + swap;
}

static_assert(memory_plus_swap(1, 2) == 3u && !memory_plus_swap(INT64_MAX, 1) && !memory_plus_swap(UINT64_MAX - 1, 2));
static_assert(cpu_shares_from_weight(1) == 2 && cpu_shares_from_weight(10000) == 262144);
static_assert(blkio_weight_from_io_weight(1) == 10 && blkio_weight_from_io_weight(10000) == 1000);

}  // namespace nestbox::policy
