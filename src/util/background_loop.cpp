#include "util/background_loop.hpp"

#include <utility>

namespace rediscache::detail {

BackgroundLoop::BackgroundLoop(std::chrono::milliseconds interval, std::function<bool()> step)
    : BackgroundLoop([interval] { return interval; }, std::move(step)) {}

BackgroundLoop::BackgroundLoop(std::function<std::chrono::milliseconds()> next_interval,
                               std::function<bool()> step)
    : next_interval_(std::move(next_interval)),
      step_(std::move(step)),
      thread_([this] { run(); }) {}

BackgroundLoop::~BackgroundLoop() { stop(); }

void BackgroundLoop::wake() noexcept {
  {
    const std::lock_guard<std::mutex> lock(mu_);
    woken_ = true;
  }
  cv_.notify_one();
}

void BackgroundLoop::stop() noexcept {
  {
    const std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  // join() throws only when called from the loop's own thread or twice at once, both misuse
  // that the contract above rules out; a destructor must not throw either way.
  try {
    if (thread_.joinable()) thread_.join();
  } catch (...) {
  }
}

void BackgroundLoop::run() noexcept {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, next_interval_(), [this] { return stopping_ || woken_; });
    if (stopping_) break;
    woken_ = false;
    lock.unlock();
    if (!step_()) return;
    lock.lock();
  }
}

}  // namespace rediscache::detail
