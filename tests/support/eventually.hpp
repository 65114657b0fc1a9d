// Polling a condition until a bounded deadline, instead of sleeping a fixed time: the machines
// are noisy and a fresh one is slow, so a test waits for the state it needs, never longer than
// the bound. Written once here: unity builds put several test files in one translation unit.
#pragma once

#include <chrono>
#include <thread>

namespace rediscache::test {

/// How long a test waits for a state before it fails: generous, since it only bounds a failure.
constexpr std::chrono::milliseconds kEventuallyBound{10000};

/// Polls `done` every `poll` until it holds or `bound` passes; returns whether it held.
template <class Predicate>
bool eventually(Predicate done, std::chrono::milliseconds bound = kEventuallyBound,
                std::chrono::milliseconds poll = std::chrono::milliseconds(1)) {
  const auto deadline = std::chrono::steady_clock::now() + bound;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(poll);
  }
  return done();
}

}  // namespace rediscache::test
