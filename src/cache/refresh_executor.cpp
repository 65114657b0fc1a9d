#include "cache/refresh_executor.hpp"

#include <algorithm>
#include <utility>

#include "util/validation.hpp"

namespace rediscache::detail {

RefreshExecutor::RefreshExecutor(std::size_t threads, std::size_t max_queue)
    : state_(std::make_shared<State>()) {
  state_->max_queue = max_queue;
  state_->exited.assign(threads, false);
  threads_.reserve(threads);
  for (std::size_t i = 0; i < threads; ++i) {
    threads_.emplace_back([state = state_, i] { run(state, i); });
  }
}

RefreshExecutor::~RefreshExecutor() { shutdown(std::nullopt); }

bool RefreshExecutor::try_submit(std::function<void()> task) {
  {
    const std::lock_guard<std::mutex> lock(state_->mu);
    if (state_->stopping || state_->queue.size() >= state_->max_queue) return false;
    state_->queue.push_back(std::move(task));
  }
  state_->work_cv.notify_one();
  return true;
}

bool RefreshExecutor::submit_until(std::function<void()> task,
                                   std::chrono::steady_clock::time_point deadline) {
  {
    std::unique_lock<std::mutex> lock(state_->mu);
    const bool room = state_->room_cv.wait_until(lock, deadline, [this] {
      return state_->stopping || state_->queue.size() < state_->max_queue;
    });
    if (!room || state_->stopping) return false;
    state_->queue.push_back(std::move(task));
  }
  state_->work_cv.notify_one();
  return true;
}

std::size_t RefreshExecutor::shutdown(std::optional<std::chrono::milliseconds> bound) {
  if (threads_.empty()) return 0;  // already shut down (a detached thread may never exit)
  std::vector<bool> exited;
  {
    std::unique_lock<std::mutex> lock(state_->mu);
    state_->stopping = true;
    state_->queue.clear();
    state_->work_cv.notify_all();
    state_->room_cv.notify_all();
    const auto all_exited = [this] {
      return std::all_of(state_->exited.begin(), state_->exited.end(), [](bool e) { return e; });
    };
    if (bound) {
      state_->exit_cv.wait_until(
          lock, saturating_deadline(std::chrono::steady_clock::now(), *bound), all_exited);
    } else {
      state_->exit_cv.wait(lock, all_exited);
    }
    exited = state_->exited;
  }
  std::size_t detached = 0;
  for (std::size_t i = 0; i < threads_.size(); ++i) {
    if (!threads_[i].joinable()) continue;
    if (exited[i]) {
      threads_[i].join();
    } else {
      threads_[i].detach();
      ++detached;
    }
  }
  threads_.clear();
  return detached;
}

void RefreshExecutor::run(const std::shared_ptr<State>& state, std::size_t index) {
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock<std::mutex> lock(state->mu);
      state->work_cv.wait(lock, [&] { return state->stopping || !state->queue.empty(); });
      if (state->stopping) {
        state->exited[index] = true;
        state->exit_cv.notify_all();
        return;
      }
      task = std::move(state->queue.front());
      state->queue.pop_front();
    }
    state->room_cv.notify_one();
    try {
      task();
    } catch (...) {  // NOLINT(bugprone-empty-catch): tasks report their own errors
    }
    task = nullptr;  // release what it captured before the next wait
  }
}

}  // namespace rediscache::detail
