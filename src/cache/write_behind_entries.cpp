#include "cache/write_behind_entries.hpp"

#include <string_view>
#include <unordered_map>

namespace rediscache::detail {

Entry parse_entry(const Reply& reply) {
  Entry entry;
  if (!reply.is_array() || reply.elements.size() < 2) return entry;
  entry.stream_id = reply.elements[0].str;
  const Reply& fields = reply.elements[1];
  if (!fields.is_array()) {
    entry.deleted = true;
    return entry;
  }
  bool has_kind = false;
  bool has_id = false;
  bool has_value = false;
  for (std::size_t i = 0; i + 1 < fields.elements.size(); i += 2) {
    const std::string& name = fields.elements[i].str;
    const std::string& value = fields.elements[i + 1].str;
    if (name == "k") {
      has_kind = value == "u" || value == "r";
      entry.op.kind = value == "r" ? WriteKind::kRemove : WriteKind::kUpsert;
    } else if (name == "id") {
      has_id = true;
      entry.op.id = value;
    } else if (name == "v") {
      has_value = true;
      entry.op.payload = value;
    }
  }
  entry.valid = has_kind && has_id && (entry.op.kind == WriteKind::kRemove || has_value);
  entry.op.entry_id = entry.stream_id;
  return entry;
}

std::vector<Entry> parse_entries(const Reply& list) {
  std::vector<Entry> entries;
  if (!list.is_array()) return entries;
  entries.reserve(list.elements.size());
  for (const Reply& item : list.elements) {
    Entry entry = parse_entry(item);
    if (!entry.stream_id.empty()) entries.push_back(std::move(entry));
  }
  return entries;
}

// Milliseconds part of a stream id ("1700000000000-3").
long long id_millis(const std::string& id) {
  try {
    return std::stoll(id.substr(0, id.find('-')));
  } catch (const std::exception&) {
    return 0;
  }
}

Batch coalesce(const std::vector<Entry>& entries) {
  Batch batch;
  std::unordered_map<std::string_view, std::size_t> index;
  for (const Entry& e : entries) {
    if (!e.valid) continue;
    auto [it, inserted] = index.emplace(e.op.id, batch.ops.size());
    if (inserted) {
      batch.ops.push_back(e.op);
      batch.covers.emplace_back();
    } else {
      batch.ops[it->second] = e.op;
    }
    batch.covers[it->second].push_back(&e);
  }
  return batch;
}

}  // namespace rediscache::detail
