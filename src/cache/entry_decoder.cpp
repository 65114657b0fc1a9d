#include "cache/entry_decoder.hpp"

namespace rediscache::detail {

EntryMeta EntryDecoder::header(std::string_view raw) const {
  if (format_ == EntryFormat::kPlain) return EntryMeta{};
  return decode_entry_header(raw);
}

Object EntryDecoder::value(std::string_view raw, const EntryMeta& meta) const {
  if (format_ == EntryFormat::kPlain) return ops_.decode(raw);
  if (meta.negative) return nullptr;
  if (meta.compressed) return ops_.decode(decode_entry_payload(raw, meta, decode_limit_));
  return ops_.decode(entry_body(raw, meta));  // no copy
}

std::size_t EntryDecoder::footprint(const DecodedEntry& entry,
                                    std::size_t raw_size) const noexcept {
  std::size_t bytes = sizeof(DecodedEntry);
  if (entry.value) bytes += ops_.footprint(entry.value.get(), raw_size);
  for (const std::string& tag : entry.meta.tags) bytes += sizeof(std::string) + tag.size();
  return bytes;
}

}  // namespace rediscache::detail
