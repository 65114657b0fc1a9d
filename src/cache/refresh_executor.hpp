// RefreshExecutor: the small bounded thread pool that runs refresh-ahead loads in the background.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace rediscache::detail {

/// A fixed number of threads and a bounded queue. Tasks must not throw (exceptions are caught
/// and dropped). The destructor drops queued tasks, waits for running ones and joins: its
/// bound is the longest task in progress. Thread-safe.
class RefreshExecutor {
 public:
  RefreshExecutor(std::size_t threads, std::size_t max_queue);
  ~RefreshExecutor();
  RefreshExecutor(const RefreshExecutor&) = delete;
  RefreshExecutor& operator=(const RefreshExecutor&) = delete;

  /// Queues `task`; false (task not queued) when the queue is full or shutting down.
  bool try_submit(std::function<void()> task);

 private:
  void run();

  std::size_t max_queue_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;  // guarded by mu_
  bool stopping_ = false;                    // guarded by mu_
  std::vector<std::thread> threads_;
};

}  // namespace rediscache::detail
