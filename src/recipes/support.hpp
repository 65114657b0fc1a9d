// Shared by the recipes: option checks, number formatting for argv, and checked reads of
// MULTI/EXEC results, so every recipe reports errors the way Client does.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "client/client_core.hpp"
#include "rediscache/client/client.hpp"
#include "rediscache/client/transaction.hpp"
#include "rediscache/net/args.hpp"
#include "rediscache/net/reply.hpp"

namespace rediscache::detail {

/// Decimal text of an integer, for argv.
std::string decimal(long long value);
std::string decimal(std::uint64_t value);
/// A double as Redis reads it (shortest round-trip text; "inf", "-inf").
std::string score_text(double value);
/// Milliseconds as text, for PEXPIRE and PX.
std::string millis_text(std::chrono::milliseconds value);

/// Queues commands into one MULTI/EXEC, sends it (one round trip) and returns the replies.
/// Error replies in a slot throw ReplyError naming the command; an aborted or unexpected EXEC
/// throws the client's errors.
class RecipeTransaction {
 public:
  explicit RecipeTransaction(const Client& client);
  RecipeTransaction& queue(ArgList argv);
  std::vector<Reply> exec();

 private:
  Transaction transaction_;
  std::string endpoint_;
  std::vector<std::string> names_;  // command name per slot, for error messages
};

/// Reply checks are the client's (client/client_core.hpp: to_integer, to_optional_string, ...).
/// A score as Redis writes it ("1.5", "inf", "-inf"); ProtocolError when it is not a number.
double parse_score(const std::string& text, const std::string& endpoint, std::string_view command);

}  // namespace rediscache::detail
