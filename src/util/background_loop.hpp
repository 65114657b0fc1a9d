// BackgroundLoop: one thread that runs a step every interval, or at once when woken, until
// stopped. The one place for the stop/wake/join handshake that the topology refreshers and the
// lock watchdog share.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace rediscache::detail {

/// Thread-safe. The thread starts in the constructor and is joined by stop() or the destructor,
/// so an owner that declares its loop after everything the step uses (or stops it first in its
/// own destructor) never has the step outlive its state.
class BackgroundLoop {
 public:
  /// `step` runs after each `interval` and soon after each wake(); returning false ends the
  /// loop. It must not throw: background work reports, it never throws.
  BackgroundLoop(std::chrono::milliseconds interval, std::function<bool()> step);
  /// The same with an interval that `next_interval` decides before each wait (on the loop's
  /// thread), for a loop that polls faster while it waits for something.
  BackgroundLoop(std::function<std::chrono::milliseconds()> next_interval,
                 std::function<bool()> step);
  ~BackgroundLoop();
  BackgroundLoop(const BackgroundLoop&) = delete;
  BackgroundLoop& operator=(const BackgroundLoop&) = delete;

  /// Runs the step now rather than at the end of the interval; several wakes before the step
  /// starts run it once.
  void wake() noexcept;
  /// Ends the loop and joins the thread; a step in progress finishes first. Idempotent. Never
  /// from inside the step.
  void stop() noexcept;

 private:
  void run() noexcept;

  const std::function<std::chrono::milliseconds()> next_interval_;
  const std::function<bool()> step_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mu_
  bool woken_ = false;     // guarded by mu_
  std::thread thread_;     // last: started once everything above exists
};

}  // namespace rediscache::detail
