// detail::JsonReader, the fast path of Codec<T>::decode: it must read exactly what
// nlohmann::json::parse reads (same types, same values), and hand everything else back.
#include "cache/json_reader.hpp"

#include <cstdint>
#include <cstring>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "rediscache/cache/codec.hpp"

namespace {

using nlohmann::json;
using rediscache::detail::JsonReader;
using rediscache::detail::parse_json;

// Same type tree and same values; doubles compared by bit pattern (so -0.0 differs from 0.0)
// and integers by type (nlohmann's == takes 1u and 1 for equal).
bool same(const json& a, const json& b) {
  if (a.type() != b.type()) return false;
  switch (a.type()) {
    case json::value_t::object: {
      if (a.size() != b.size()) return false;
      for (auto it = a.begin(), jt = b.begin(); it != a.end(); ++it, ++jt) {
        if (it.key() != jt.key() || !same(*it, *jt)) return false;
      }
      return true;
    }
    case json::value_t::array: {
      if (a.size() != b.size()) return false;
      for (std::size_t i = 0; i < a.size(); ++i) {
        if (!same(a[i], b[i])) return false;
      }
      return true;
    }
    case json::value_t::number_float: {
      const double x = a.get<double>();
      const double y = b.get<double>();
      std::uint64_t x_bits = 0;
      std::uint64_t y_bits = 0;
      std::memcpy(&x_bits, &x, sizeof x);
      std::memcpy(&y_bits, &y, sizeof y);
      return x_bits == y_bits;
    }
    default:
      return a == b;
  }
}

// What nlohmann alone makes of `text`: its value, or nullopt for an error (parse_error, or
// out_of_range for a number beyond double).
std::optional<json> reference(const std::string& text) {
  try {
    return json::parse(text.begin(), text.end());
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

bool fast_reads(const std::string& text, json& out) { return JsonReader(text).read(out); }

TEST(JsonReader, CommonDocuments_FastPathMatchesNlohmann) {
  const std::vector<std::string> texts = {
      R"({"description":"Dual boiler, 58 mm.","id":1,"name":"Espresso machine 1","price":649.9,"stock":17,"tags":["kitchen","coffee","appliances"]})",
      R"( { "a" : [ 1 , -2 , 3.5e2 , -0 , -0.0 , 0 , 1E-3 , 2e+2 ] , "b" : { } , "c" : [ ] } )",
      "[true,false,null,\"\",\"x\"]",
      R"("esc \" \\ \/ \b \f \n \r \t end")",
      "\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \x7F\"",
      "18446744073709551615",    // UINT64_MAX: unsigned
      "-9223372036854775808",    // INT64_MIN: signed
      "9223372036854775808",     // above INT64_MAX: still unsigned
      "1.7976931348623157e308",  // DBL_MAX
      "4.9e-324",                // smallest subnormal
      "0.1",
      "123456789012345678901234567890.5",
      R"({"k":1,"k":2,"a":{"k":[1,{"z":null}]}})",  // duplicate key: the last one wins
      R"({"z":1,"a":2,"m":3})",                     // keys out of order
      "\t\n\r 42 \t\n\r",
  };
  for (const std::string& text : texts) {
    SCOPED_TRACE(text);
    json fast;
    ASSERT_TRUE(fast_reads(text, fast));
    const std::optional<json> expected = reference(text);
    ASSERT_TRUE(expected.has_value());
    EXPECT_TRUE(same(fast, *expected)) << fast.dump() << " vs " << expected->dump();
  }
}

TEST(JsonReader, DuplicateKey_LastOneWins) {
  json out;
  ASSERT_TRUE(fast_reads(R"({"k":{"x":1},"k":"second"})", out));
  EXPECT_EQ(out, json({{"k", "second"}}));
}

TEST(JsonReader, OutsideSubsetOrMalformed_HandedBack) {
  const std::vector<std::string> texts = {
      "",
      "   ",
      R"("\u00e9")",           // \u escapes are nlohmann's
      "\xEF\xBB\xBF{}",        // byte-order mark
      "\"\xC0\xAF\"",          // overlong
      "\"\xED\xA0\x80\"",      // UTF-16 surrogate
      "\"\xF4\x90\x80\x80\"",  // above U+10FFFF
      "\"\xC3\"",              // truncated sequence
      "\"\x80\"",              // lone continuation byte
      "\"a\x01\"",             // raw control character
      "\"unterminated",
      "{\"a\":1,}",
      "[1,]",
      "[1 2]",
      "{\"a\" 1}",
      "{a:1}",
      "01",
      "-",
      "1.",
      ".5",
      "1e",
      "+1",
      "1e400",                 // overflows double
      "18446744073709551616",  // overflows uint64: nlohmann makes it a double
      "-9223372036854775809",  // overflows int64: likewise
      "tru",
      "nulll",
      "{} x",
      "/* comment */ 1",
      std::string("1\0", 2),
  };
  for (const std::string& text : texts) {
    SCOPED_TRACE(text);
    json out;
    EXPECT_FALSE(fast_reads(text, out));
  }
}

TEST(JsonReader, DeepNesting_HandedToNlohmannWithoutRecursion) {
  const std::size_t depth = 100000;
  const std::string text = std::string(depth, '[') + std::string(depth, ']');
  json out;
  EXPECT_FALSE(fast_reads(text, out));
  EXPECT_TRUE(parse_json(text, out, depth));  // nlohmann parses it iteratively
  EXPECT_TRUE(out.is_array());
  EXPECT_FALSE(parse_json(text, out, depth - 1));  // one level past the bound: refused

  const std::string shallow =
      std::string(JsonReader::kMaxDepth, '[') + std::string(JsonReader::kMaxDepth, ']');
  EXPECT_TRUE(fast_reads(shallow, out));
}

TEST(JsonReader, ParseJson_MalformedText_ThrowsNlohmannErrors) {
  json out;
  EXPECT_THROW((void)parse_json("{\"a\":", out, 128), json::parse_error);
  EXPECT_THROW((void)parse_json("", out, 128), json::parse_error);
  EXPECT_THROW((void)parse_json("[1e400]", out, 128), json::out_of_range);
}

// Differential test: random edits of valid documents, read by "fast path, else nlohmann" and by
// nlohmann alone, must give the same value or both an error.
TEST(JsonReader, MutatedDocuments_SameOutcomeAsNlohmann) {
  const std::vector<std::string> seeds = {
      R"({"description":"Dual boiler","id":1,"name":"Espresso \u00e9","price":649.9,"tags":["a","b"]})",
      R"([1,-2,3.25e-3,true,false,null,"caf\u00e9",{"k":[{}],"z":"\n\t"}])",
      "{\"utf8\":\"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\",\"n\":18446744073709551615,\"m\":-1}",
  };
  const std::string alphabet =
      "{}[],:\"\\/-+.eE0123456789 \t\ntrufalsn\x01\x7F\xC3\xA9\xED\xF4\x80\xBF";
  std::mt19937 rng(20261128);
  std::size_t fast_accepted = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string text = seeds[round % seeds.size()];
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits && !text.empty(); ++e) {
      const std::size_t at = rng() % text.size();
      const char c = alphabet[rng() % alphabet.size()];
      switch (rng() % 3) {
        case 0:
          text[at] = c;
          break;
        case 1:
          text.insert(text.begin() + static_cast<std::ptrdiff_t>(at), c);
          break;
        default:
          text.erase(at, 1);
          break;
      }
    }
    SCOPED_TRACE(text);
    const std::optional<json> expected = reference(text);
    json fast;
    if (fast_reads(text, fast)) {
      ++fast_accepted;
      ASSERT_TRUE(expected.has_value()) << "fast path accepted what nlohmann rejects";
      ASSERT_TRUE(same(fast, *expected)) << fast.dump() << " vs " << expected->dump();
    }
    json combined;
    bool threw = false;
    try {
      ASSERT_TRUE(parse_json(text, combined, 128));
    } catch (const json::exception&) {
      threw = true;
    }
    ASSERT_EQ(threw, !expected.has_value());
    if (expected) {
      ASSERT_TRUE(same(combined, *expected));
    }
  }
  EXPECT_GT(fast_accepted, 100U);  // the comparison above did exercise the fast path
}

}  // namespace

TEST(JsonReader, NestingBound_BracketsInStringsDoNotCount) {
  using rediscache::detail::json_nests_deeper_than;
  EXPECT_FALSE(json_nests_deeper_than(R"([[["[[[[[[\"[[[["]]])", 3));
  EXPECT_TRUE(json_nests_deeper_than(R"([[[[1]]]])", 3));
  EXPECT_FALSE(json_nests_deeper_than(R"({"a":{"b":[1]}})", 3));
  EXPECT_TRUE(json_nests_deeper_than(R"({"a":{"b":[{}]}})", 3));
  json out;
  // Within the fast reader's own limit too: a bound below kMaxDepth holds on the fast path.
  EXPECT_FALSE(parse_json("[[[[1]]]]", out, 3));
  EXPECT_TRUE(parse_json("[[[1]]]", out, 3));
}
