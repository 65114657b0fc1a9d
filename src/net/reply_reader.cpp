#include "net/reply_reader.hpp"

#include <algorithm>
#include <cstddef>

#include <hiredis/hiredis.h>
#include <hiredis/read.h>

#include "rediscache/util/errors.hpp"

// The reply-object hooks changed signature in hiredis 1.0 (createArray takes size_t instead of
// int; createDouble and createBool were added for RESP3). Both are supported; anything else must
// fail here rather than compile against a struct layout we have not read.
#if !defined(HIREDIS_MAJOR) || !defined(HIREDIS_MINOR)
#error "hiredis.h does not define HIREDIS_MAJOR/HIREDIS_MINOR"
#elif HIREDIS_MAJOR == 0 && HIREDIS_MINOR == 14
#define REDISCACHE_HIREDIS_HOOKS 0
#elif HIREDIS_MAJOR == 1
#define REDISCACHE_HIREDIS_HOOKS 1
#else
#error "rediscache supports hiredis 0.14.x and 1.x (the reply-object hooks differ elsewhere)"
#endif

namespace rediscache::detail {

namespace {

using State = ReplyReader::State;

#if REDISCACHE_HIREDIS_HOOKS == 0
using ElementCount = int;
#else
using ElementCount = std::size_t;
#endif

State& state_of(const redisReadTask* task) { return *static_cast<State*>(task->privdata); }

void* refuse(const redisReadTask* task, const char* why) {
  State& state = state_of(task);
  if (state.error == nullptr) state.error = why;
  return nullptr;  // hiredis fails the reader; ReplyReader::next reports state.error
}

// The top-level reply lives in the reader's State and nested elements inside their parent's
// vector, appended as they arrive (hiredis creates them in index order), so a reply costs no
// allocation beyond its strings and arrays, and no second copy. A parent's vector may reallocate
// when a sibling is appended; hiredis holds pointers only to the elements on the current path
// (the parent chain), which a sibling's arrival never moves.
Reply* slot_for(const redisReadTask* task) {
  if (task->parent == nullptr) {
    Reply* root = &state_of(task).root;
    *root = Reply{};
    return root;
  }
  auto* parent = static_cast<Reply*>(task->parent->obj);
  if (task->idx < 0 || static_cast<std::size_t>(task->idx) != parent->elements.size()) {
    return nullptr;  // hiredis always goes in order; anything else is a bug we must not index
  }
  return &parent->elements.emplace_back();
}

int depth_of(const redisReadTask* task) noexcept {
  int depth = 0;
  for (const redisReadTask* t = task->parent; t != nullptr; t = t->parent) ++depth;
  return depth;
}

void* create_string(const redisReadTask* task, char* str, size_t len) {
  try {
    ReplyType type = ReplyType::kString;
    switch (task->type) {
      case REDIS_REPLY_ERROR:
        type = ReplyType::kError;
        break;
      case REDIS_REPLY_STATUS:
        type = ReplyType::kStatus;
        break;
      case REDIS_REPLY_STRING:
        break;
      default:  // RESP3 verbatim strings and big numbers: we never send HELLO 3
        return refuse(task, "RESP3 reply on a RESP2 connection");
    }
    Reply* reply = slot_for(task);
    if (reply == nullptr) return refuse(task, "reply element out of order");
    reply->type = type;
    reply->str.assign(str, len);
    return reply;
  } catch (...) {
    return refuse(task, "out of memory building the reply");
  }
}

void* create_array(const redisReadTask* task, ElementCount elements) {
  if (task->type != REDIS_REPLY_ARRAY) return refuse(task, "RESP3 reply on a RESP2 connection");
  // hiredis 0.14 passes a count parsed into an int (negative after overflow).
  if constexpr (std::is_signed_v<ElementCount>) {
    if (elements < 0) return refuse(task, "impossible array length");
  }
  if (static_cast<unsigned long long>(elements) > ReplyReader::kMaxElements) {
    return refuse(task, "impossible array length");
  }
  if (depth_of(task) >= ReplyReader::kMaxDepth) return refuse(task, "arrays nested too deep");
  try {
    Reply* reply = slot_for(task);
    if (reply == nullptr) return refuse(task, "reply element out of order");
    reply->type = ReplyType::kArray;
    reply->elements.reserve(
        std::min(static_cast<std::size_t>(elements), ReplyReader::kMaxReservedElements));
    return reply;
  } catch (...) {
    return refuse(task, "out of memory building the reply");
  }
}

void* create_integer(const redisReadTask* task, long long value) {
  try {
    Reply* reply = slot_for(task);
    if (reply == nullptr) return refuse(task, "reply element out of order");
    reply->type = ReplyType::kInteger;
    reply->integer = value;
    return reply;
  } catch (...) {
    return refuse(task, "out of memory building the reply");
  }
}

void* create_nil(const redisReadTask* task) {
  try {
    Reply* reply = slot_for(task);
    if (reply == nullptr) return refuse(task, "reply element out of order");
    reply->type = ReplyType::kNil;
    return reply;
  } catch (...) {
    return refuse(task, "out of memory building the reply");
  }
}

#if REDISCACHE_HIREDIS_HOOKS == 1
void* create_double(const redisReadTask* task, double /*value*/, char* /*str*/, size_t /*len*/) {
  return refuse(task, "RESP3 reply on a RESP2 connection");
}

void* create_bool(const redisReadTask* task, int /*value*/) {
  return refuse(task, "RESP3 reply on a RESP2 connection");
}
#endif

// Replies are owned by the State, never by hiredis.
void free_object(void* /*reply*/) {}

// Not const: hiredis takes a non-const pointer to it.
#if REDISCACHE_HIREDIS_HOOKS == 0
redisReplyObjectFunctions g_reply_functions = {create_string, create_array, create_integer,
                                               create_nil, free_object};
#else
redisReplyObjectFunctions g_reply_functions = {create_string, create_array, create_integer,
                                               create_double, create_nil,   create_bool,
                                               free_object};
#endif

}  // namespace

void ReplyReader::ReaderDeleter::operator()(redisReader* reader) const noexcept {
  redisReaderFree(reader);
}

ReplyReader::ReplyReader(std::size_t max_buffered_bytes)
    : reader_(redisReaderCreateWithFunctions(&g_reply_functions)),
      max_buffered_(max_buffered_bytes) {
  if (!reader_) throw IoError("cannot allocate a RESP reader");
  reader_->privdata = &state_;
}

ReplyReader::~ReplyReader() = default;

bool ReplyReader::feed(const char* data, std::size_t len) noexcept {
  if (over_limit_) return false;
  if (redisReaderFeed(reader_.get(), data, len) == REDIS_OK) {
    // Complete replies are taken by next() between feeds, so what stays buffered is the
    // unfinished element (and replies not yet taken, which a pipelined caller takes in order).
    if (reader_->len - reader_->pos <= max_buffered_) return true;
    over_limit_ = true;
    error_ = "reply element larger than the reader's bound (512 MiB)";
    return false;
  }
  // A reader that already failed refuses more bytes; keep the reason next() gave.
  if (error_.empty()) error_ = "out of memory buffering the reply";
  return false;
}

ReplyReader::Result ReplyReader::next(Reply& out) noexcept {
  if (over_limit_) return Result::kError;
  void* raw = nullptr;
  if (redisReaderGetReply(reader_.get(), &raw) != REDIS_OK) {
    try {
      error_ = state_.error != nullptr ? state_.error : reader_->errstr;
    } catch (...) {
      // error_ keeps its previous text; the caller still sees kError
    }
    return Result::kError;
  }
  if (raw == nullptr) return Result::kIncomplete;
  out = std::move(state_.root);
  return Result::kReply;
}

}  // namespace rediscache::detail
