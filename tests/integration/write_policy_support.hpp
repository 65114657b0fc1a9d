// Helpers of the write-policy tests: a private PostgreSQL table of (id, value) rows, the batch
// writer into it, and cache names derived from the per-test key prefix.
#pragma once

#include <algorithm>
#include <cctype>
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <pqxx/pqxx>

#include "client_factory.hpp"
#include "rediscache/cache/write_behind.hpp"
#include "rediscache/client/client.hpp"
#include "rediscache/topology/cluster.hpp"
#include "test_env.hpp"

namespace rediscache::test {

/// Options of a write-policy test's cache: `name`, a 60 s TTL, the rest defaulted.
inline CacheOptions policy_cache_options(const std::string& name) {
  CacheOptions options;
  options.name = name;
  options.ttl = std::chrono::seconds(60);
  return options;
}

/// unique_prefix() reduced to what a cache namespace and a SQL identifier allow ([a-z0-9_]).
inline std::string unique_name(std::string_view tag) {
  std::string name = std::string(tag) + "_" + unique_prefix();
  for (char& c : name) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) c = '_';
  }
  while (!name.empty() && name.back() == '_') name.pop_back();
  if (name.size() > 60) name = name.substr(name.size() - 60);  // PostgreSQL: 63 bytes
  if (!name.empty() && (name[0] >= '0' && name[0] <= '9')) name.insert(0, "t");
  return name;
}

/// A table `name (id text primary key, value text not null)`, created empty and dropped at the
/// end. Not thread-safe (one connection); writers use their own connections.
class PgTable {
 public:
  PgTable(const std::string& conninfo, std::string name)
      : conninfo_(conninfo), name_(std::move(name)), connection_(conninfo) {
    pqxx::work w(connection_);
    w.exec0("DROP TABLE IF EXISTS " + w.quote_name(name_));
    w.exec0("CREATE TABLE " + w.quote_name(name_) + " (id text PRIMARY KEY, value text NOT NULL)");
    w.commit();
  }
  ~PgTable() {
    try {
      pqxx::connection c(conninfo_);
      pqxx::work w(c);
      w.exec0("DROP TABLE IF EXISTS " + w.quote_name(name_));
      w.commit();
    } catch (const std::exception&) {  // NOLINT(bugprone-empty-catch): best effort cleanup
    }
  }
  PgTable(const PgTable&) = delete;
  PgTable& operator=(const PgTable&) = delete;

  [[nodiscard]] const std::string& name() const { return name_; }
  [[nodiscard]] const std::string& conninfo() const { return conninfo_; }

  std::map<std::string, std::string> rows() {
    pqxx::work w(connection_);
    std::map<std::string, std::string> out;
    for (const auto& row : w.exec("SELECT id, value FROM " + w.quote_name(name_))) {
      out.emplace(row[0].as<std::string>(), row[1].as<std::string>());
    }
    w.commit();
    return out;
  }

  std::optional<std::string> get(const std::string& id) {
    pqxx::work w(connection_);
    const pqxx::result r =
        w.exec_params("SELECT value FROM " + w.quote_name(name_) + " WHERE id = $1", id);
    w.commit();
    if (r.empty()) return std::nullopt;
    return r[0][0].as<std::string>();
  }

  void upsert(const std::string& id, const std::string& value) {
    pqxx::work w(connection_);
    upsert(w, name_, id, value);
    w.commit();
  }

  static void upsert(pqxx::work& w, const std::string& table, const std::string& id,
                     const std::string& value) {
    w.exec_params("INSERT INTO " + w.quote_name(table) +
                      " (id, value) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET value = "
                      "EXCLUDED.value",
                  id, value);
  }

  /// Applies a coalesced batch in one transaction: one multi-row upsert, one delete.
  static void write_batch(pqxx::connection& c, const std::string& table,
                          const std::vector<WriteOp<std::string>>& ops) {
    pqxx::work w(c);
    std::vector<std::string> upsert_params;
    std::vector<std::string> remove_params;
    std::string values;
    std::string placeholders;
    for (const auto& op : ops) {
      if (op.kind == WriteKind::kUpsert) {
        if (!values.empty()) values += ", ";
        values += "($" + std::to_string(upsert_params.size() + 1) + ", $" +
                  std::to_string(upsert_params.size() + 2) + ")";
        upsert_params.push_back(op.id);
        upsert_params.push_back(*op.value);
      } else {
        if (!placeholders.empty()) placeholders += ", ";
        remove_params.push_back(op.id);
        placeholders += "$" + std::to_string(remove_params.size());
      }
    }
    if (!upsert_params.empty()) {
      w.exec_params("INSERT INTO " + w.quote_name(table) + " (id, value) VALUES " + values +
                        " ON CONFLICT (id) DO UPDATE SET value = EXCLUDED.value",
                    pqxx::prepare::make_dynamic_params(upsert_params));
    }
    if (!remove_params.empty()) {
      w.exec_params("DELETE FROM " + w.quote_name(table) + " WHERE id IN (" + placeholders + ")",
                    pqxx::prepare::make_dynamic_params(remove_params));
    }
    w.commit();
  }

 private:
  std::string conninfo_;
  std::string name_;
  pqxx::connection connection_;
};

}  // namespace rediscache::test
