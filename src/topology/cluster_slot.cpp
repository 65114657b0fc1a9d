// CRC16 (XMODEM: polynomial 0x1021, initial value 0) and the cluster's hash-tag rule, exactly as
// Redis Cluster's keyHashSlot() computes them.
#include <array>
#include <cstdint>
#include <string_view>

#include "rediscache/topology/cluster.hpp"

namespace rediscache {

namespace {

constexpr std::array<std::uint16_t, 256> make_crc16_table() {
  std::array<std::uint16_t, 256> table{};
  for (unsigned i = 0; i < 256; ++i) {
    auto crc = static_cast<std::uint16_t>(i << 8);
    for (int bit = 0; bit < 8; ++bit) {
      crc = static_cast<std::uint16_t>((crc & 0x8000U) != 0 ? (crc << 1) ^ 0x1021U : crc << 1);
    }
    table[i] = crc;
  }
  return table;
}

constexpr std::array<std::uint16_t, 256> kCrc16Table = make_crc16_table();

std::uint16_t crc16(std::string_view data) noexcept {
  std::uint16_t crc = 0;
  for (const char c : data) {
    const auto byte = static_cast<unsigned char>(c);
    crc = static_cast<std::uint16_t>((crc << 8) ^ kCrc16Table[((crc >> 8) ^ byte) & 0xFFU]);
  }
  return crc;
}

}  // namespace

std::uint16_t cluster_slot(std::string_view key) noexcept {
  // Only the first '{' counts, and only when a '}' follows it with something in between;
  // "{}" or an unclosed '{' leave the whole key hashed.
  const auto open = key.find('{');
  if (open != std::string_view::npos) {
    const auto close = key.find('}', open + 1);
    if (close != std::string_view::npos && close != open + 1) {
      key = key.substr(open + 1, close - open - 1);
    }
  }
  return static_cast<std::uint16_t>(crc16(key) & 16383U);
}

}  // namespace rediscache
