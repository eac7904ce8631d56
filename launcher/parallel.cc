#include "launcher/parallel.h"

#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <vector>

namespace nestbox::launch {

namespace {

struct Queue {
  size_t count;
  const std::function<void(size_t)>* task;
  std::atomic<size_t> next{0};
};

void* drain(void* arg) {
  auto* q = static_cast<Queue*>(arg);
  for (size_t i; (i = q->next.fetch_add(1)) < q->count;) (*q->task)(i);
  return nullptr;
}

}  // namespace

unsigned parallel_jobs(size_t tasks) {
  long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
  size_t jobs = std::clamp<long>(cpus, 2, 8);
  return static_cast<unsigned>(std::min(jobs, std::max<size_t>(tasks, 1)));
}

void run_parallel(size_t count, unsigned jobs, const std::function<void(size_t)>& task) {
  Queue q{count, &task};
  std::vector<pthread_t> threads;
  for (unsigned j = 1; j < jobs && j < count; ++j) {
    pthread_t t;
    if (::pthread_create(&t, nullptr, drain, &q) != 0) break;  // fewer helpers, same work
    threads.push_back(t);
  }
  drain(&q);
  for (pthread_t t : threads) ::pthread_join(t, nullptr);
}

}  // namespace nestbox::launch
