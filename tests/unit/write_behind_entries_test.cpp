// Unit tests of the write-behind stream's entries, with no server: parsing XREADGROUP/XRANGE
// entries (valid, malformed, deleted while pending) and coalescing a batch to one op per id.
#include "cache/write_behind_entries.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "reply_builders.hpp"

namespace rediscache::detail {
namespace {

using test::array;
using test::str;

// [stream id, [field, value, ...]]
Reply entry(const std::string& id, const std::vector<std::string>& fields) {
  std::vector<Reply> f;
  for (const std::string& s : fields) f.push_back(str(s));
  return array({str(id), array(std::move(f))});
}

TEST(WriteBehindEntries, Upsert_ParsesKindIdAndPayload) {
  const Entry e = parse_entry(entry("1-0", {"k", "u", "id", "a", "v", "payload"}));
  EXPECT_TRUE(e.valid);
  EXPECT_FALSE(e.deleted);
  EXPECT_EQ(e.stream_id, "1-0");
  EXPECT_EQ(e.op.kind, WriteKind::kUpsert);
  EXPECT_EQ(e.op.id, "a");
  EXPECT_EQ(e.op.payload, "payload");
  EXPECT_EQ(e.op.entry_id, "1-0");
}

TEST(WriteBehindEntries, Remove_NeedsNoPayload) {
  const Entry e = parse_entry(entry("2-0", {"k", "r", "id", "a"}));
  EXPECT_TRUE(e.valid);
  EXPECT_EQ(e.op.kind, WriteKind::kRemove);
  EXPECT_TRUE(e.op.payload.empty());
}

TEST(WriteBehindEntries, MissingFieldsOrUnknownKind_Invalid) {
  EXPECT_FALSE(parse_entry(entry("3-0", {"k", "u", "id", "a"})).valid);  // upsert without v
  EXPECT_FALSE(parse_entry(entry("3-1", {"k", "u", "v", "x"})).valid);   // no id
  EXPECT_FALSE(parse_entry(entry("3-2", {"id", "a", "v", "x"})).valid);  // no kind
  EXPECT_FALSE(parse_entry(entry("3-3", {"k", "z", "id", "a"})).valid);  // unknown kind
  EXPECT_EQ(parse_entry(entry("3-3", {"k", "z", "id", "a"})).stream_id, "3-3");
}

TEST(WriteBehindEntries, NilFields_DeletedWhilePending) {
  Reply nil;
  const Entry e = parse_entry(array({str("4-0"), nil}));
  EXPECT_TRUE(e.deleted);
  EXPECT_FALSE(e.valid);
  EXPECT_EQ(e.stream_id, "4-0");
}

TEST(WriteBehindEntries, WrongShape_NoStreamIdAndSkippedFromLists) {
  EXPECT_TRUE(parse_entry(str("garbage")).stream_id.empty());
  EXPECT_TRUE(parse_entry(array({str("5-0")})).stream_id.empty());
  const std::vector<Entry> entries = parse_entries(array(
      {entry("6-0", {"k", "r", "id", "a"}), str("garbage"), entry("6-1", {"k", "r", "id", "b"})}));
  ASSERT_EQ(entries.size(), 2U);
  EXPECT_EQ(entries[0].stream_id, "6-0");
  EXPECT_EQ(entries[1].stream_id, "6-1");
  EXPECT_TRUE(parse_entries(str("not an array")).empty());
}

TEST(WriteBehindEntries, IdMillis_ReadsTheTimePartOrZero) {
  EXPECT_EQ(id_millis("1700000000000-3"), 1700000000000LL);
  EXPECT_EQ(id_millis("42"), 42);
  EXPECT_EQ(id_millis("x-1"), 0);
}

TEST(WriteBehindCoalesce, SameIdTwice_LatestWinsAndCoversBoth) {
  const std::vector<Entry> entries = {
      parse_entry(entry("1-0", {"k", "u", "id", "a", "v", "1"})),
      parse_entry(entry("2-0", {"k", "u", "id", "b", "v", "2"})),
      parse_entry(entry("3-0", {"k", "r", "id", "a"})),
  };
  const Batch batch = coalesce(entries);
  ASSERT_EQ(batch.ops.size(), 2U);
  EXPECT_EQ(batch.ops[0].id, "a");  // in the order of each id's first entry
  EXPECT_EQ(batch.ops[0].kind, WriteKind::kRemove);
  EXPECT_EQ(batch.ops[0].entry_id, "3-0");
  EXPECT_EQ(batch.ops[1].id, "b");
  ASSERT_EQ(batch.covers[0].size(), 2U);
  EXPECT_EQ(batch.covers[0][0]->stream_id, "1-0");
  EXPECT_EQ(batch.covers[0][1]->stream_id, "3-0");  // last = the op's entry
  EXPECT_EQ(batch.covers[1].size(), 1U);
}

TEST(WriteBehindCoalesce, InvalidAndDeletedEntries_Skipped) {
  Reply nil;
  const std::vector<Entry> entries = {
      parse_entry(entry("1-0", {"k", "u", "id", "a"})),  // no v
      parse_entry(array({str("2-0"), nil})),             // deleted
      parse_entry(entry("3-0", {"k", "u", "id", "c", "v", "x"})),
  };
  const Batch batch = coalesce(entries);
  ASSERT_EQ(batch.ops.size(), 1U);
  EXPECT_EQ(batch.ops[0].id, "c");
  EXPECT_TRUE(coalesce({}).ops.empty());
}

}  // namespace
}  // namespace rediscache::detail
