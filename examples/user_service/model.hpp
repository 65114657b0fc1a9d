// The service's records: a user's profile (the row plus an order summary, as in
// examples/cache_aside_postgres.cpp) and an event posted about a user. Both are plain values with
// nlohmann/json conversions, which is what rediscache's default Codec<T> stores in Redis.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace user_service {

/// A user's profile as a page shows it. `orders` and `spent` summarise the orders table: they are
/// what makes a profile costly to load, and so worth caching.
struct User {
  int id = 0;
  std::string name;
  std::string email;
  std::string bio;
  long long orders = 0;
  std::string spent = "0";  // numeric(12,2) as text: exact, never a binary float
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(User, id, name, email, bio, orders, spent)

/// Something that happened to a user (a page view, a click). Events are queued by WriteBehind
/// and reach the events table in batches; `data` is the client's JSON, kept as compact text.
struct Event {
  int user_id = 0;
  std::string type;
  std::string data = "null";
  long long at_ms = 0;  // milliseconds since the epoch, when the service accepted the event
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Event, user_id, type, data, at_ms)

}  // namespace user_service
