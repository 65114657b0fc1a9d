// RefreshExecutor: the small bounded thread pool that runs a cache's background work: refresh-ahead
// loads, and the loads that callers stopped waiting for at a load timeout.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace rediscache::detail {

/// A fixed number of threads and a bounded queue. Tasks must not throw (exceptions are caught
/// and dropped). Destruction drops queued tasks, waits for running ones and joins; shutdown()
/// bounds that wait. Thread-safe.
class RefreshExecutor {
 public:
  RefreshExecutor(std::size_t threads, std::size_t max_queue);
  /// shutdown() without a bound, unless it already ran.
  ~RefreshExecutor();
  RefreshExecutor(const RefreshExecutor&) = delete;
  RefreshExecutor& operator=(const RefreshExecutor&) = delete;

  /// Queues `task`; false (task not queued) when the queue is full or shutting down.
  bool try_submit(std::function<void()> task);
  /// Queues `task`, waiting until `deadline` for room in the queue; false when there was none
  /// by then, or on shutdown.
  bool submit_until(std::function<void()> task, std::chrono::steady_clock::time_point deadline);
  /// Drops queued tasks and waits for the running ones: at most `bound` when given. Threads
  /// whose task outlives the bound are detached (they exit when it returns), so such a task
  /// must not use its owner after the owner is gone. Returns how many were detached. Idempotent.
  std::size_t shutdown(std::optional<std::chrono::milliseconds> bound);

 private:
  // Shared with the threads, so that a detached thread outlives this object safely.
  struct State {
    std::size_t max_queue;
    std::mutex mu;
    std::condition_variable work_cv;          // a task queued, or stopping
    std::condition_variable room_cv;          // a task taken from the queue, or stopping
    std::condition_variable exit_cv;          // a thread left run()
    std::deque<std::function<void()>> queue;  // guarded by mu
    std::vector<bool> exited;                 // guarded by mu; per thread
    bool stopping = false;                    // guarded by mu
  };
  static void run(const std::shared_ptr<State>& state, std::size_t index);

  std::shared_ptr<State> state_;
  std::vector<std::thread> threads_;
};

}  // namespace rediscache::detail
