#include "net/connection.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <new>
#include <string>

#include <hiredis/hiredis.h>

#include "net/resp.hpp"
#include "rediscache/util/errors.hpp"

namespace rediscache::detail {

namespace {

timeval to_timeval(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<decltype(tv.tv_sec)>(ms.count() / 1000);
  tv.tv_usec = static_cast<decltype(tv.tv_usec)>((ms.count() % 1000) * 1000);
  return tv;
}

// hiredis hands every parsed element to these functions. The top-level reply lives in the
// Connection (reader privdata) and nested elements live inside their parent's vector, so a
// reply costs no allocation beyond its strings and arrays, and no second copy.
Reply* slot_for(const redisReadTask* task) {
  if (task->parent == nullptr) {
    auto* root = static_cast<Reply*>(task->privdata);
    *root = Reply{};
    return root;
  }
  auto* parent = static_cast<Reply*>(task->parent->obj);
  return &parent->elements[static_cast<std::size_t>(task->idx)];
}

void* create_string(const redisReadTask* task, char* str, size_t len) {
  try {
    Reply* reply = slot_for(task);
    switch (task->type) {
      case REDIS_REPLY_ERROR:
        reply->type = ReplyType::kError;
        break;
      case REDIS_REPLY_STATUS:
        reply->type = ReplyType::kStatus;
        break;
      default:
        reply->type = ReplyType::kString;
        break;
    }
    reply->str.assign(str, len);
    return reply;
  } catch (...) {
    return nullptr;  // hiredis reports an out-of-memory error
  }
}

void* create_array(const redisReadTask* task, int elements) {
  try {
    Reply* reply = slot_for(task);
    reply->type = ReplyType::kArray;
    reply->elements.resize(static_cast<std::size_t>(elements));
    return reply;
  } catch (...) {
    return nullptr;
  }
}

void* create_integer(const redisReadTask* task, long long value) {
  Reply* reply = slot_for(task);
  reply->type = ReplyType::kInteger;
  reply->integer = value;
  return reply;
}

void* create_nil(const redisReadTask* task) {
  Reply* reply = slot_for(task);
  reply->type = ReplyType::kNil;
  return reply;
}

// Replies are owned by the Connection, never by hiredis.
void free_object(void* /*reply*/) {}

// Not const: hiredis takes a non-const pointer to it.
redisReplyObjectFunctions g_reply_functions = {create_string, create_array, create_integer,
                                               create_nil, free_object};

bool is_timeout(int saved_errno, const char* errstr) {
  if (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK || saved_errno == ETIMEDOUT) {
    return true;
  }
  return std::strstr(errstr, "timed out") != nullptr ||
         std::strstr(errstr, "temporarily unavailable") != nullptr;
}

// hiredis writes with write(2), so a write to a socket the server has reset raises SIGPIPE, whose
// default action kills the process. A cache client must turn that into an error instead. Once,
// and only if the application left SIGPIPE at its default, it is ignored process-wide (the
// write then fails with EPIPE); an application's own handler or mask is never replaced.
void ignore_sigpipe_once() noexcept {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction current {};
    if (::sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL) {
      struct sigaction ignore {};
      ignore.sa_handler = SIG_IGN;
      sigemptyset(&ignore.sa_mask);
      ::sigaction(SIGPIPE, &ignore, nullptr);
    }
  });
}

}  // namespace

void Connection::ContextDeleter::operator()(redisContext* context) const noexcept {
  redisFree(context);
}

Connection::Connection(const ConnectionOptions& options)
    : endpoint_(options.endpoint()), command_timeout_(options.command_timeout) {
  ignore_sigpipe_once();
  const timeval connect_tv = to_timeval(options.connect_timeout);
  redisContext* raw = options.unix_socket.empty()
                          ? redisConnectWithTimeout(options.host.c_str(), options.port, connect_tv)
                          : redisConnectUnixWithTimeout(options.unix_socket.c_str(), connect_tv);
  if (raw == nullptr) throw std::bad_alloc();
  context_.reset(raw);
  if (context_->err != 0) {
    const int saved_errno = errno;
    const std::string what = "redis " + endpoint_ + ": connect: " + context_->errstr;
    if (is_timeout(saved_errno, context_->errstr)) throw TimeoutError(what);
    throw IoError(what);
  }
  context_->reader->fn = &g_reply_functions;
  context_->reader->privdata = &root_;
  if (options.keep_alive && options.unix_socket.empty()) redisEnableKeepAlive(context_.get());
  // The handshake is part of connecting, so it is bounded by the connect timeout.
  redisSetTimeout(context_.get(), connect_tv);
  handshake(options);
  restore_timeout();
  created_at_ = last_used_ = Clock::now();
}

Connection::~Connection() = default;

void Connection::handshake(const ConnectionOptions& options) {
  std::size_t sent = 0;
  const char* names[3];
  if (!options.password.empty()) {
    if (options.user.empty()) {
      append({"AUTH", options.password});
    } else {
      append({"AUTH", options.user, options.password});
    }
    names[sent++] = "AUTH";
  }
  const IntText db(options.db);
  if (options.db != 0) {
    append({"SELECT", db});
    names[sent++] = "SELECT";
  }
  if (!options.client_name.empty()) {
    append({"CLIENT", "SETNAME", options.client_name});
    names[sent++] = "CLIENT";
  }
  // Read every reply before reporting the first error, so the stream stays in sync.
  const char* failed = nullptr;
  Reply failure;
  for (std::size_t i = 0; i < sent; ++i) {
    Reply reply = read_reply(names[i]);
    if (reply.is_error() && failed == nullptr) {
      failed = names[i];
      failure = std::move(reply);
    }
  }
  if (failed != nullptr) {
    broken_ = true;
    throw_reply_error(endpoint_, failed, failure);
  }
}

void Connection::append(ArgList argv) {
  out_.clear();
  append_resp(out_, argv);
  if (redisAppendFormattedCommand(context_.get(), out_.data(), out_.size()) != REDIS_OK) {
    fail(command_name(argv), errno);
  }
  ++pending_;
}

void Connection::append_encoded(std::string_view resp, std::size_t commands) {
  if (redisAppendFormattedCommand(context_.get(), resp.data(), resp.size()) != REDIS_OK) {
    fail("pipeline", errno);
  }
  pending_ += commands;
}

Reply Connection::read_reply(std::string_view command_name) {
  void* raw = nullptr;
  if (redisGetReply(context_.get(), &raw) != REDIS_OK || raw == nullptr) {
    fail(command_name, errno);
  }
  if (pending_ > 0) --pending_;
  return std::move(root_);
}

Reply Connection::command(ArgList argv) {
  append(argv);
  void* raw = nullptr;
  if (redisGetReply(context_.get(), &raw) != REDIS_OK || raw == nullptr) {
    fail(command_name(argv), errno);
  }
  --pending_;
  return std::move(root_);
}

void Connection::flush() {
  int done = 0;
  while (done == 0) {
    if (redisBufferWrite(context_.get(), &done) != REDIS_OK) fail("write", errno);
  }
}

bool Connection::try_read_buffered(Reply& out) {
  void* raw = nullptr;
  if (redisGetReplyFromReader(context_.get(), &raw) != REDIS_OK) fail("read", errno);
  if (raw == nullptr) return false;
  out = std::move(root_);
  return true;
}

bool Connection::wait_readable(std::chrono::milliseconds timeout) {
  pollfd pfd{context_->fd, POLLIN, 0};
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    const int rc = ::poll(&pfd, 1, static_cast<int>(left.count() > 0 ? left.count() : 0));
    if (rc > 0) break;
    if (rc == 0) return false;
    if (errno != EINTR) fail("read", errno);
  }
  if (redisBufferRead(context_.get()) != REDIS_OK) fail("read", errno);
  return true;
}

void Connection::set_timeout(std::chrono::milliseconds timeout) {
  if (redisSetTimeout(context_.get(), to_timeval(timeout)) != REDIS_OK) fail("timeout", errno);
}

void Connection::restore_timeout() { set_timeout(command_timeout_); }

int Connection::native_handle() const noexcept { return context_->fd; }

bool Connection::probe_alive() noexcept {
  if (broken_) return false;
  char byte = 0;
  const ssize_t n = ::recv(context_->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  // 0: the server closed the socket. >0: bytes nobody asked for; the stream is out of sync.
  if (n >= 0) return false;
  return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
}

void Connection::fail(std::string_view command_name, int saved_errno) {
  broken_ = true;
  const int err = context_->err;
  std::string what = "redis " + endpoint_ + ": " + std::string(command_name) + ": ";
  if (err == REDIS_ERR_IO && is_timeout(saved_errno, context_->errstr)) {
    throw TimeoutError(what + "timed out waiting for the server");
  }
  if (err == REDIS_ERR_EOF) throw IoError(what + "server closed the connection");
  if (err == REDIS_ERR_PROTOCOL) throw ProtocolError(what + "protocol error: " + context_->errstr);
  if (err == REDIS_ERR_OOM) throw std::bad_alloc();
  throw IoError(what + (context_->errstr[0] != '\0' ? context_->errstr : "I/O error"));
}

std::string redact_server_error(std::string_view message) {
  constexpr std::string_view kEcho = ", with args beginning with";
  const auto cut = message.find(kEcho);
  return std::string(cut == std::string_view::npos ? message : message.substr(0, cut));
}

void throw_reply_error(const std::string& endpoint, std::string_view command, const Reply& reply) {
  const std::string_view text = reply.str;
  std::string code(text.substr(0, text.find(' ')));
  throw ReplyError(
      "redis " + endpoint + ": " + std::string(command) + ": " + redact_server_error(text),
      std::move(code));
}

}  // namespace rediscache::detail
