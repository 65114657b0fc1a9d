#include "cache/refresh_executor.hpp"

#include <utility>

namespace rediscache::detail {

RefreshExecutor::RefreshExecutor(std::size_t threads, std::size_t max_queue)
    : max_queue_(max_queue) {
  threads_.reserve(threads);
  for (std::size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { run(); });
}

RefreshExecutor::~RefreshExecutor() {
  {
    const std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    queue_.clear();
  }
  cv_.notify_all();
  for (std::thread& thread : threads_) thread.join();
}

bool RefreshExecutor::try_submit(std::function<void()> task) {
  {
    const std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ || queue_.size() >= max_queue_) return false;
    queue_.push_back(std::move(task));
  }
  cv_.notify_one();
  return true;
}

void RefreshExecutor::run() {
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    try {
      task();
    } catch (...) {  // NOLINT(bugprone-empty-catch): tasks report their own errors
    }
  }
}

}  // namespace rediscache::detail
