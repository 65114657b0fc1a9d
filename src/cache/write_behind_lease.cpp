// The write-behind flusher's lease: one flusher per queue holds it (SET-like script with a token
// and a TTL, renewed by every read), and on taking it over adopts what stopped flushers left
// pending (XAUTOCLAIM) before it reads anything new, then forgets consumers that are gone.
#include <string>
#include <vector>

#include "cache/write_behind_flusher.hpp"
#include "cache/write_behind_scripts.hpp"
#include "rediscache/client/script.hpp"

namespace rediscache::detail {

bool wb::others_pending(const Reply& summary, std::string_view self) {
  if (!summary.is_array() || summary.elements.size() < 4 || !summary.elements[3].is_array()) {
    return false;
  }
  for (const Reply& row : summary.elements[3].elements) {
    if (row.is_array() && !row.elements.empty() && row.elements[0].str != self) return true;
  }
  return false;
}

std::vector<std::string> wb::idle_consumers(const Reply& list, std::string_view self,
                                            std::chrono::milliseconds min_idle) {
  std::vector<std::string> out;
  for (const Reply& row : list.elements) {
    std::string name;
    long long pending = -1;
    long long idle = 0;
    for (std::size_t i = 0; i + 1 < row.elements.size(); i += 2) {
      const std::string& field = row.elements[i].str;
      if (field == "name") name = row.elements[i + 1].str;
      if (field == "pending") pending = row.elements[i + 1].integer;
      if (field == "idle") idle = row.elements[i + 1].integer;
    }
    if (!name.empty() && name != self && pending == 0 && idle > min_idle.count()) {
      out.push_back(std::move(name));
    }
  }
  return out;
}

long long WriteBehindQueue::State::acquire() {
  return client.eval(wb::scripts().acquire, {lease}, {token, ms_text(options.flusher_lease)})
      .integer;
}

bool WriteBehindQueue::State::adopt() {
  std::string cursor = "0-0";
  do {
    const Reply r =
        client.command({"XAUTOCLAIM", stream, kGroup, consumer, ms_text(options.claim_min_idle),
                        cursor, "COUNT", "1000", "JUSTID"});
    if (!r.is_array() || r.elements.size() < 2) break;
    cursor = r.elements[0].str;
    claimed.add(r.elements[1].elements.size());
  } while (cursor != "0-0");
  if (wb::others_pending(client.command({"XPENDING", stream, kGroup}), consumer)) return false;
  forget_idle_consumers();
  return true;
}

void WriteBehindQueue::State::forget_idle_consumers() {
  const Reply list = client.command({"XINFO", "CONSUMERS", stream, kGroup});
  for (const std::string& name : wb::idle_consumers(list, consumer, options.claim_min_idle)) {
    client.eval(wb::scripts().delete_consumer, {stream}, {kGroup, name});
  }
}

void WriteBehindQueue::State::release() noexcept {
  try {
    if (leader) client.eval(wb::scripts().release, {lease}, {token});
    leader = false;
    client.eval(wb::scripts().delete_consumer, {stream}, {kGroup, consumer});
  } catch (const std::exception& e) {
    report("write-behind flusher shutdown", e);
  }
}

}  // namespace rediscache::detail
