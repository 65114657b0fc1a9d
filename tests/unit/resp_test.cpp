// RESP encoding, number texts and error redaction (private helpers).
#include "net/resp.hpp"

#include <string>

#include <gtest/gtest.h>

#include "net/connection.hpp"

namespace {

using rediscache::detail::append_resp;

TEST(Resp, AppendResp_EncodesBinarySafeArgv) {
  std::string out;
  const std::string value("a\0\r\nb", 5);
  append_resp(out, {"SET", "k y", value});
  using namespace std::string_literals;
  EXPECT_EQ(out, "*3\r\n$3\r\nSET\r\n$3\r\nk y\r\n$5\r\na\0\r\nb\r\n"s);
}

TEST(Resp, AppendResp_EmptyArgument) {
  std::string out;
  append_resp(out, {"GET", ""});
  EXPECT_EQ(out, "*2\r\n$3\r\nGET\r\n$0\r\n\r\n");
}

TEST(Resp, NumberTexts_RoundTrip) {
  EXPECT_EQ(rediscache::detail::IntText(-1234567890123LL).view(), "-1234567890123");
  EXPECT_EQ(rediscache::detail::DoubleText(1.5).view(), "1.5");
  EXPECT_EQ(rediscache::detail::DoubleText(0.1).view(), "0.1");
  EXPECT_EQ(rediscache::detail::DoubleText(1.0 / 0.0).view(), "+inf");
  EXPECT_EQ(rediscache::detail::DoubleText(-1.0 / 0.0).view(), "-inf");
}

TEST(Resp, CommandName_IsUpperCaseFirstWordOnly) {
  EXPECT_EQ(rediscache::detail::command_name({"get", "secret-key"}), "GET");
}

TEST(Resp, RedactServerError_DropsEchoedArguments) {
  EXPECT_EQ(rediscache::detail::redact_server_error(
                "ERR unknown command 'FOO', with args beginning with: 'secret' "),
            "ERR unknown command 'FOO'");
  EXPECT_EQ(rediscache::detail::redact_server_error("WRONGTYPE Operation"), "WRONGTYPE Operation");
}

}  // namespace
