#include "composer/parallel_for.h"

#include <gtest/gtest.h>
#include <pthread.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <vector>

namespace nestbox::composer {
namespace {

TEST(ParallelFor, WorkerCountFollowsTheRequestTheCoresAndTheItems) {
  EXPECT_EQ(worker_count(4, 10), 4u);
  EXPECT_EQ(worker_count(4, 2), 2u);
  EXPECT_EQ(worker_count(4, 0), 1u);
  EXPECT_GE(worker_count(0, 1000), 1u);
  EXPECT_LE(worker_count(0, 3), 3u);
}

// Every item runs exactly once, on as many threads as asked (a barrier that
// needs all workers at once proves they run side by side), and each call
// names a worker below the count.
TEST(ParallelFor, EachItemOnceOnThatManyThreads) {
  constexpr size_t kItems = 1000;
  constexpr unsigned kWorkers = 3;
  std::vector<std::atomic<int>> runs(kItems);
  std::mutex m;
  std::set<pthread_t> threads;
  std::atomic<unsigned> arrived{0};
  parallel_for(kItems, kWorkers, [&](size_t item, unsigned worker) {
    ASSERT_LT(worker, kWorkers);
    runs[item].fetch_add(1);
    {
      std::lock_guard<std::mutex> lock(m);
      threads.insert(pthread_self());
    }
    if (item < kWorkers) {  // the first items, one per worker: all must meet
      arrived.fetch_add(1);
      auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
      while (arrived.load() < kWorkers && std::chrono::steady_clock::now() < give_up) {
      }
      EXPECT_EQ(arrived.load(), kWorkers) << "the workers never ran side by side";
    }
  });
  for (size_t i = 0; i < kItems; ++i) EXPECT_EQ(runs[i].load(), 1) << i;
  EXPECT_EQ(threads.size(), kWorkers);
}

}  // namespace
}  // namespace nestbox::composer
