#include "rediscache/helpers/session_store.hpp"

#include <cerrno>
#include <cstdlib>
#include <stdexcept>
#include <utility>

#include "helpers/common.hpp"
#include "helpers/scripts.hpp"
#include "rediscache/client/pipeline.hpp"
#include "util/random.hpp"
#include "util/validation.hpp"

namespace rediscache {
namespace {

// Lua's unpack() is limited to about 8,000 values; a cap well below it keeps every script
// call within that whatever the options say.
constexpr std::size_t kMaxFieldsCap = 1000;
// How often create/regenerate draw a new id when the drawn one is taken. With 128 random bits
// a second draw already means something other than chance is at work.
constexpr int kIdAttempts = 3;

std::unordered_map<std::string, std::string> to_fields(const Reply& reply,
                                                       const std::string& endpoint) {
  if (!reply.is_array() || reply.elements.size() % 2 != 0) {
    detail::throw_unexpected(detail::Call{endpoint, "HGETALL"}, reply);
  }
  std::unordered_map<std::string, std::string> fields;
  fields.reserve(reply.elements.size() / 2);
  for (std::size_t i = 0; i + 1 < reply.elements.size(); i += 2) {
    fields.emplace(reply.elements[i].str, reply.elements[i + 1].str);
  }
  return fields;
}

[[noreturn]] void throw_not_a(std::string_view name, const char* what) {
  throw std::invalid_argument("session field '" + std::string(name) + "' is not " + what);
}

}  // namespace

void SessionOptions::validate() const {
  detail::require_positive(ttl, "SessionOptions::ttl");
  detail::require_range(id_bytes, std::size_t{16}, std::size_t{64}, "SessionOptions::id_bytes");
  detail::require_range(max_fields, std::size_t{1}, kMaxFieldsCap, "SessionOptions::max_fields");
  detail::require_at_least(max_field_name_size, std::size_t{1},
                           "SessionOptions::max_field_name_size");
  detail::require_at_least(max_value_size, std::size_t{1}, "SessionOptions::max_value_size");
  detail::require(max_id_size >= (id_bytes * 4 + 2) / 3, "SessionOptions::max_id_size",
                  "must hold the ids this store makes");
}

// --- Session ----------------------------------------------------------------------------------

bool Session::contains(std::string_view name) const {
  return fields_.find(std::string(name)) != fields_.end();
}

std::optional<std::string> Session::text(std::string_view name) const {
  const auto it = fields_.find(std::string(name));
  if (it == fields_.end()) return std::nullopt;
  return it->second;
}

std::optional<long long> Session::integer(std::string_view name) const {
  const auto value = text(name);
  if (!value) return std::nullopt;
  if (value->empty()) throw_not_a(name, "an integer");
  errno = 0;
  char* end = nullptr;
  const long long result = std::strtoll(value->c_str(), &end, 10);
  if (errno != 0 || end != value->c_str() + value->size()) throw_not_a(name, "an integer");
  return result;
}

std::optional<double> Session::number(std::string_view name) const {
  const auto value = text(name);
  if (!value) return std::nullopt;
  if (value->empty()) throw_not_a(name, "a number");
  errno = 0;
  char* end = nullptr;
  const double result = std::strtod(value->c_str(), &end);
  if (errno != 0 || end != value->c_str() + value->size()) throw_not_a(name, "a number");
  return result;
}

std::optional<nlohmann::json> Session::json(std::string_view name) const {
  const auto value = text(name);
  if (!value) return std::nullopt;
  nlohmann::json parsed = nlohmann::json::parse(*value, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) throw_not_a(name, "JSON");
  return parsed;
}

// --- SessionStore -------------------------------------------------------------------------------

SessionStore::SessionStore(Client client, SessionOptions options)
    : client_(std::move(client)), options_(std::move(options)) {
  options_.validate();
}

std::string SessionStore::encode(const nlohmann::json& value) {
  if (value.is_string()) return value.get<std::string>();
  return value.dump();
}

std::string SessionStore::key(std::string_view id) const {
  return options_.key_prefix + std::string(id);
}

std::string SessionStore::new_id() const { return random_token(options_.id_bytes); }

void SessionStore::check_id(std::string_view id) const {
  if (id.empty()) throw std::invalid_argument("id must not be empty");
  if (id.size() > options_.max_id_size) {
    throw std::invalid_argument("id is longer than SessionOptions::max_id_size");
  }
}

void SessionStore::check_ttl(std::chrono::milliseconds ttl) const {
  detail::require_positive(ttl, "SessionStore ttl");
}

std::vector<std::string> SessionStore::encode_fields(const SessionFields& fields) const {
  if (fields.size() > options_.max_fields) {
    throw std::invalid_argument("fields: more than SessionOptions::max_fields");
  }
  std::vector<std::string> args;
  args.reserve(fields.size() * 2);
  for (const auto& [name, value] : fields) {
    if (name.empty()) throw std::invalid_argument("fields: a field name is empty");
    if (name.size() > options_.max_field_name_size) {
      throw std::invalid_argument("fields: a field name is longer than max_field_name_size");
    }
    std::string encoded = encode(value);
    if (encoded.size() > options_.max_value_size) {
      throw std::invalid_argument("fields: the value of '" + name +
                                  "' is longer than max_value_size");
    }
    args.push_back(name);
    args.push_back(std::move(encoded));
  }
  return args;
}

std::string SessionStore::create(const SessionFields& fields,
                                 std::optional<std::chrono::milliseconds> ttl) {
  if (fields.empty()) throw std::invalid_argument("fields must not be empty");
  const auto lifetime = ttl.value_or(options_.ttl);
  check_ttl(lifetime);
  std::vector<std::string> args = encode_fields(fields);
  args.insert(args.begin(), detail::to_arg(lifetime));
  for (int attempt = 0; attempt < kIdAttempts; ++attempt) {
    std::string id = new_id();
    const std::string session_key = key(id);
    const Reply reply = client_.eval(detail::session_create_script(), {session_key}, args);
    if (detail::to_integer(reply, detail::Call{client_.endpoint(), "session create script"}) == 1) {
      created_.add();
      return id;
    }
  }
  throw std::runtime_error("SessionStore::create: every new session id drawn was taken");
}

std::optional<Session> SessionStore::get(std::string_view id, SessionExpiry expiry) {
  check_id(id);
  const std::string session_key = key(id);
  std::unordered_map<std::string, std::string> fields;
  if (expiry == SessionExpiry::kSlide) {
    // One round trip. PEXPIRE on an absent key does nothing, so no session is created.
    Pipeline pipeline = client_.pipeline();
    pipeline.command({"HGETALL", session_key}).pexpire(session_key, options_.ttl);
    const std::vector<Reply> replies = pipeline.exec();
    fields = to_fields(replies.at(0), client_.endpoint());
    detail::to_integer(replies.at(1), detail::Call{client_.endpoint(), "PEXPIRE"});
  } else {
    fields = client_.hgetall(session_key);
  }
  if (fields.empty()) {
    misses_.add();
    return std::nullopt;
  }
  hits_.add();
  return Session(std::string(id), std::move(fields));
}

bool SessionStore::update(std::string_view id, const SessionFields& fields, ArgList remove) {
  check_id(id);
  if (fields.empty() && remove.empty()) return client_.exists({key(id)}) > 0;
  std::vector<std::string> encoded = encode_fields(fields);
  std::vector<std::string_view> args;
  args.reserve(2 + remove.size() + encoded.size());
  const std::string max_fields = std::to_string(options_.max_fields);
  const std::string remove_count = std::to_string(remove.size());
  args.emplace_back(max_fields);
  args.emplace_back(remove_count);
  for (std::size_t i = 0; i < remove.size(); ++i) args.push_back(remove[i]);
  for (const std::string& item : encoded) args.emplace_back(item);
  const std::string session_key = key(id);
  const long long result =
      detail::to_integer(client_.eval(detail::session_update_script(), {session_key}, args),
                         detail::Call{client_.endpoint(), "session update script"});
  if (result == -1) throw std::invalid_argument("fields: more than SessionOptions::max_fields");
  if (result == -2) throw std::invalid_argument("fields: the session would have no field left");
  return result == 1;
}

bool SessionStore::touch(std::string_view id, std::optional<std::chrono::milliseconds> ttl) {
  check_id(id);
  const auto lifetime = ttl.value_or(options_.ttl);
  check_ttl(lifetime);
  return client_.pexpire(key(id), lifetime);
}

bool SessionStore::destroy(std::string_view id) {
  check_id(id);
  const bool existed = client_.del({key(id)}) > 0;
  if (existed) destroyed_.add();
  return existed;
}

std::optional<std::string> SessionStore::regenerate(std::string_view id,
                                                    std::optional<std::chrono::milliseconds> ttl) {
  check_id(id);
  if (ttl) check_ttl(*ttl);
  const std::string old_key = key(id);
  const std::string ttl_arg = ttl ? detail::to_arg(*ttl) : std::string();
  for (int attempt = 0; attempt < kIdAttempts; ++attempt) {
    std::string new_id = this->new_id();
    const std::string new_key = key(new_id);
    const long long result = detail::to_integer(
        client_.eval(detail::session_regenerate_script(), {old_key, new_key}, {ttl_arg}),
        detail::Call{client_.endpoint(), "session regenerate script"});
    if (result == 0) return std::nullopt;
    if (result == 1) {
      regenerated_.add();
      return new_id;
    }
  }
  throw std::runtime_error("SessionStore::regenerate: every new session id drawn was taken");
}

std::optional<std::chrono::milliseconds> SessionStore::ttl(std::string_view id) {
  check_id(id);
  const long long remaining = client_.pttl(key(id));
  if (remaining == kTtlKeyMissing) return std::nullopt;
  // A session without expiry cannot come from this store; report it as "no time left
  // known" rather than inventing one.
  if (remaining == kTtlNoExpiry) return std::chrono::milliseconds::max();
  return std::chrono::milliseconds(remaining);
}

SessionStats SessionStore::stats() const {
  SessionStats stats;
  stats.created = created_.value();
  stats.hits = hits_.value();
  stats.misses = misses_.value();
  stats.destroyed = destroyed_.value();
  stats.regenerated = regenerated_.value();
  return stats;
}

}  // namespace rediscache
