#include "rediscache/pipeline.hpp"

#include <stdexcept>
#include <utility>

#include "detail/client_core.hpp"
#include "detail/connection.hpp"
#include "detail/resp.hpp"

namespace rediscache {

Pipeline::Pipeline(const Client& client) : core_(client.core_) {}

Pipeline& Pipeline::command(ArgList argv) {
  if (argv.empty()) throw std::invalid_argument("argv must not be empty");
  detail::append_resp(buffer_, argv);
  ++count_;
  return *this;
}

Pipeline& Pipeline::get(std::string_view key) { return command({"GET", key}); }

Pipeline& Pipeline::set(std::string_view key, std::string_view value, const SetOptions& options) {
  detail::Argv argv;
  detail::IntText ttl(0);
  detail::build_set(argv, key, value, options, ttl);
  return command(argv.view());
}

Pipeline& Pipeline::del(ArgList keys) {
  if (keys.empty()) throw std::invalid_argument("keys must not be empty");
  detail::Argv argv(keys.size() + 1);
  argv.add("DEL");
  argv.add_all(keys);
  return command(argv.view());
}

Pipeline& Pipeline::pexpire(std::string_view key, std::chrono::milliseconds ttl) {
  const detail::IntText ms(ttl.count());
  return command({"PEXPIRE", key, ms});
}

Pipeline& Pipeline::incrby(std::string_view key, long long increment) {
  const detail::IntText by(increment);
  return command({"INCRBY", key, by});
}

Pipeline& Pipeline::hset(std::string_view key, std::string_view field, std::string_view value) {
  return command({"HSET", key, field, value});
}

Pipeline& Pipeline::publish(std::string_view channel, std::string_view message) {
  return command({"PUBLISH", channel, message});
}

void Pipeline::clear() noexcept {
  buffer_.clear();
  count_ = 0;
}

std::vector<Reply> Pipeline::exec() {
  if (count_ == 0) return {};
  // Clear the queue whatever happens: after a failure the outcome of each command is unknown,
  // and sending the batch again by accident could apply it twice.
  std::string batch;
  batch.swap(buffer_);
  const std::size_t count = std::exchange(count_, 0);

  Lease lease = core_->any_pool().lease();
  detail::Connection& connection = lease.connection();
  connection.append_encoded(batch, count);
  std::vector<Reply> replies;
  replies.reserve(count);
  for (std::size_t i = 0; i < count; ++i) replies.push_back(connection.read_reply("pipeline"));
  // Keep the buffer's capacity for the next batch.
  batch.clear();
  buffer_.swap(batch);
  return replies;
}

}  // namespace rediscache
