// Unit tests of the write-behind flusher's pure decisions, with no server: whether another
// consumer still holds pending entries (XPENDING), which consumers may be forgotten (XINFO
// CONSUMERS), the retry backoff, the dead-letter kind and the dead-letter stream's parsing.
#include "cache/write_behind_flusher.hpp"

#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "reply_builders.hpp"

namespace rediscache::detail {
namespace {

using test::array;
using test::integer;
using test::str;

using std::chrono::milliseconds;

// XPENDING summary: [count, first id, last id, [[consumer, count], ...]].
Reply pending_summary(const std::vector<std::string>& consumers) {
  std::vector<Reply> rows;
  for (const std::string& c : consumers) rows.push_back(array({str(c), str("1")}));
  return array({integer(static_cast<long long>(consumers.size())), str("1-0"), str("2-0"),
                array(std::move(rows))});
}

Reply consumer_row(const std::string& name, long long pending, long long idle) {
  return array({str("name"), str(name), str("pending"), integer(pending), str("idle"),
                integer(idle), str("inactive"), integer(idle)});
}

TEST(WriteBehindFlusher, OthersPending_OnlyWhenAnotherConsumerHoldsEntries) {
  EXPECT_FALSE(wb::others_pending(pending_summary({}), "me"));
  EXPECT_FALSE(wb::others_pending(pending_summary({"me"}), "me"));
  EXPECT_TRUE(wb::others_pending(pending_summary({"me", "gone"}), "me"));
  EXPECT_TRUE(wb::others_pending(pending_summary({"gone"}), "me"));
  // An empty group answers [0, nil, nil, nil]: nothing pending anywhere.
  EXPECT_FALSE(wb::others_pending(array({integer(0), Reply{}, Reply{}, Reply{}}), "me"));
  EXPECT_FALSE(wb::others_pending(str("garbage"), "me"));
}

TEST(WriteBehindFlusher, IdleConsumers_SkipsSelfBusyAndRecentlyActive) {
  const Reply list = array({consumer_row("me", 0, 10'000), consumer_row("busy", 3, 10'000),
                            consumer_row("recent", 0, 100), consumer_row("gone", 0, 10'000),
                            consumer_row("", 0, 10'000)});
  const std::vector<std::string> idle = wb::idle_consumers(list, "me", milliseconds(1000));
  EXPECT_EQ(idle, (std::vector<std::string>{"gone"}));
  EXPECT_TRUE(wb::idle_consumers(array({}), "me", milliseconds(1000)).empty());
}

TEST(WriteBehindFlusher, RetryBackoff_DoublesFromInitialUpToMax) {
  WriteBehindOptions options;
  options.initial_backoff = milliseconds(100);
  options.max_backoff = milliseconds(350);
  EXPECT_EQ(wb::retry_backoff(options, 0), milliseconds(100));
  EXPECT_EQ(wb::retry_backoff(options, 1), milliseconds(100));
  EXPECT_EQ(wb::retry_backoff(options, 2), milliseconds(200));
  EXPECT_EQ(wb::retry_backoff(options, 3), milliseconds(350));
  EXPECT_EQ(wb::retry_backoff(options, 1000), milliseconds(350));
}

TEST(WriteBehindFlusher, DeadLetterKind_UpsertRemoveOrUnparsed) {
  Entry e;
  EXPECT_STREQ(wb::dead_letter_kind(e), "?");
  e.valid = true;
  e.op.kind = WriteKind::kUpsert;
  EXPECT_STREQ(wb::dead_letter_kind(e), "u");
  e.op.kind = WriteKind::kRemove;
  EXPECT_STREQ(wb::dead_letter_kind(e), "r");
}

TEST(WriteBehindFlusher, StreamIds_InOrder) {
  Entry a;
  a.stream_id = "1-0";
  Entry b;
  b.stream_id = "2-0";
  EXPECT_EQ(wb::stream_ids({&a, &b}), (std::vector<std::string>{"1-0", "2-0"}));
  EXPECT_TRUE(wb::stream_ids({}).empty());
}

TEST(WriteBehindFlusher, ParseDeadLetters_ReadsEveryFieldAndSkipsOddItems) {
  const Reply reply = array(
      {array({str("5-0"), array({str("k"), str("r"), str("id"), str("a"), str("error"), str("boom"),
                                 str("attempts"), str("3")})}),
       str("garbage"), array({str("6-0"), array({str("k"), str("u"), str("id"), str("b")})})});
  const std::vector<DeadLetter> letters = wb::parse_dead_letters(reply);
  ASSERT_EQ(letters.size(), 2U);
  EXPECT_EQ(letters[0].entry_id, "5-0");
  EXPECT_EQ(letters[0].kind, WriteKind::kRemove);
  EXPECT_EQ(letters[0].id, "a");
  EXPECT_EQ(letters[0].error, "boom");
  EXPECT_EQ(letters[0].attempts, 3U);
  EXPECT_EQ(letters[1].kind, WriteKind::kUpsert);
  EXPECT_EQ(letters[1].attempts, 0U);
  EXPECT_TRUE(wb::parse_dead_letters(str("not an array")).empty());
}

}  // namespace
}  // namespace rediscache::detail
