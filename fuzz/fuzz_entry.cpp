// Cache entry decoding from arbitrary bytes (what Redis holds is untrusted): only CodecError,
// never a crash, never an allocation beyond the limits; and encode -> decode round-trips.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "cache/entry.hpp"
#include "rediscache/cache/codec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace rediscache::detail;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  try {
    const EntryMeta meta = decode_entry_header(bytes);
    const std::string payload = decode_entry_payload(bytes, meta, std::size_t{1} << 20);
    if (!meta.compressed && payload != entry_body(bytes, meta)) std::abort();
    (void)remaining_lifetime(meta.expires_at_ms, 1'800'000'000'000);
    (void)saturating_add(meta.expires_at_ms, 365LL * 24 * 3600 * 1000);
  } catch (const rediscache::CodecError&) {
  }
  // Round trip of the same bytes as a payload, plain and compressed.
  for (const auto& settings : {CompressionSettings{}, CompressionSettings{std::size_t{1}, 3}}) {
    EntryMeta meta;
    meta.expires_at_ms = static_cast<std::int64_t>(size) * 1000;
    const std::string entry = encode_entry(meta, bytes, settings);
    const EntryMeta back = decode_entry_header(entry);
    if (decode_entry_payload(entry, back, std::size_t{1} << 20) != bytes) std::abort();
  }
  return 0;
}
