// RecoveryQueue: coalescing, bounds and the read-side check of the writes Redis missed.
#include "cache/recovery_queue.hpp"

#include <algorithm>
#include <iterator>
#include <utility>

namespace rediscache::detail {

std::string RecoveryQueue::index_key(Kind kind, const std::string& target) {
  switch (kind) {
    case Kind::kDelete:
      return "e" + target;
    case Kind::kAnnounce:
      return "a" + target;
    case Kind::kTag:
      return "t" + target;
    case Kind::kBump:
      break;
  }
  return "b";
}

std::size_t RecoveryQueue::cost(const Op& op) noexcept {
  return kOverheadBytes + 2 * op.target.size() + op.key.size();  // the index holds the target too
}

void RecoveryQueue::erase_locked(Order::iterator it) {
  if (it->kind == Kind::kDelete) {
    const auto found = deleted_keys_.find(it->key);
    if (found != deleted_keys_.end()) deleted_keys_.erase(found);
  }
  bytes_ -= cost(*it);
  index_.erase(index_key(it->kind, it->target));
  order_.erase(it);
  size_.store(order_.size(), std::memory_order_release);
}

RecoveryQueue::Pushed RecoveryQueue::push(Kind kind, std::string target, std::string key) {
  const std::lock_guard<std::mutex> lock(mu_);
  Op op{kind, std::move(target), std::move(key), 0};
  const std::string index = index_key(op.kind, op.target);
  const auto found = index_.find(index);
  const bool replaces = found != index_.end();
  const std::size_t before = replaces ? cost(*found->second) : 0;
  const std::size_t after_bytes = bytes_ - before + cost(op);
  const std::size_t after_count = order_.size() + (replaces ? 0 : 1);
  if (after_count > max_operations_ || after_bytes > max_bytes_) return Pushed::kFull;
  if (replaces) erase_locked(found->second);
  op.seq = next_seq_++;
  if (op.kind == Kind::kDelete) deleted_keys_.insert(op.key);
  bytes_ += cost(op);
  order_.push_back(std::move(op));
  index_.emplace(index, std::prev(order_.end()));
  size_.store(order_.size(), std::memory_order_release);
  return replaces ? Pushed::kCoalesced : Pushed::kQueued;
}

void RecoveryQueue::cancel_entry(const std::string& id) {
  if (empty()) return;
  const std::lock_guard<std::mutex> lock(mu_);
  const auto found = index_.find(index_key(Kind::kDelete, id));
  if (found != index_.end()) erase_locked(found->second);
}

std::vector<RecoveryQueue::Op> RecoveryQueue::front(std::size_t n) const {
  const std::lock_guard<std::mutex> lock(mu_);
  std::vector<Op> out;
  out.reserve(std::min(n, order_.size()));
  for (auto it = order_.begin(); it != order_.end() && out.size() < n; ++it) out.push_back(*it);
  return out;
}

std::size_t RecoveryQueue::settle(const std::vector<Op>& done) {
  const std::lock_guard<std::mutex> lock(mu_);
  std::size_t removed = 0;
  for (const Op& op : done) {
    const auto found = index_.find(index_key(op.kind, op.target));
    if (found == index_.end() || found->second->seq != op.seq) continue;  // replaced since
    erase_locked(found->second);
    ++removed;
  }
  return removed;
}

std::vector<RecoveryQueue::Op> RecoveryQueue::take_all() {
  const std::lock_guard<std::mutex> lock(mu_);
  std::vector<Op> out(std::make_move_iterator(order_.begin()),
                      std::make_move_iterator(order_.end()));
  order_.clear();
  index_.clear();
  deleted_keys_.clear();
  bytes_ = 0;
  size_.store(0, std::memory_order_release);
  return out;
}

bool RecoveryQueue::outdates(const std::string& key, const std::vector<std::string>& tags) const {
  if (empty()) return false;
  const std::lock_guard<std::mutex> lock(mu_);
  if (index_.count(index_key(Kind::kBump, {})) != 0) return true;
  if (deleted_keys_.count(key) != 0) return true;
  for (const std::string& tag : tags) {
    if (index_.count(index_key(Kind::kTag, tag)) != 0) return true;
  }
  return false;
}

std::size_t RecoveryQueue::bytes() const {
  const std::lock_guard<std::mutex> lock(mu_);
  return bytes_;
}

}  // namespace rediscache::detail
