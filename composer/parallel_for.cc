#include "composer/parallel_for.h"

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

namespace nestbox::composer {

unsigned worker_count(unsigned threads, size_t items) {
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  return static_cast<unsigned>(std::max<size_t>(1, std::min<size_t>(threads, items)));
}

void parallel_for(size_t items, unsigned workers, const std::function<void(size_t, unsigned)>& fn) {
  std::atomic<size_t> next{0};
  auto work = [&](unsigned worker) {
    for (size_t i; (i = next.fetch_add(1)) < items;) fn(i, worker);
  };
  std::vector<std::thread> pool;
  for (unsigned w = 1; w < workers; ++w) pool.emplace_back(work, w);
  work(0);
  for (auto& t : pool) t.join();
}

}  // namespace nestbox::composer
