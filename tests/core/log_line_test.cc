// Log lines built with core/json.h (SPEC 8): whatever bytes a field holds
// (quotes, control characters, bytes that are not UTF-8), the line is one
// line of valid JSON that reads back to the same bytes.
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "test_util.h"
#include "vixbreaker/core/json.h"
#include "worker_client.h"

namespace vix::testing {
namespace {

constexpr int64_t kTs =
    1'764'433'800'123'456'000;  // 2025-11-29T16:30:00.123456Z

// Every byte but letters, plus the JSON specials, a NUL, and bytes that are
// not UTF-8 on their own or in sequence.
std::string Nasty() {
  std::string text = "quote \" backslash \\ slash / nul ";
  text.push_back('\0');
  text += " crlf \r\n tab \t del \x7f bad \xff\xfe\xc3 ";
  for (int c = 1; c < 0x20; ++c) text.push_back(static_cast<char>(c));
  for (int c = 0x80; c < 0x100; ++c) text.push_back(static_cast<char>(c));
  return text;
}

std::string LineWith(const std::string& text) {
  return LogLine(kTs, "REDIS_ERROR_PANIC_TS", text)
      .Int("pid", 42)
      .Str("error", text)
      .Done();
}

TEST(LogLineTest, StartsWithTheFieldsEveryLineHas) {
  EXPECT_EQ(LogLine(kTs, "SERVE_STOPPED", "vixbreaker").Int("pid", 7).Done(),
            "{\"ts\":\"2025-11-29T16:30:00.123456Z\",\"event\":\"SERVE_"
            "STOPPED\",\"segment\":\"vixbreaker\",\"pid\":7}");
}

TEST(LogLineTest, AnyBytesGiveOnePrintableAsciiLine) {
  const std::string line = LineWith(Nasty());
  for (unsigned char c : line) {
    ASSERT_TRUE(c >= 0x20 && c < 0x7f)
        << "byte 0x" << std::hex << static_cast<int>(c) << " in " << line;
  }
  EXPECT_FALSE(absl::StrContains(line, "\n"));
}

TEST(LogLineTest, AnyBytesReadBackExactlyWithTheTestsParser) {
  const std::string text = Nasty();
  std::optional<FlatJson> json = FlatJson::Parse(LineWith(text));
  ASSERT_TRUE(json.has_value()) << LineWith(text);
  EXPECT_EQ(json->Str("error"), text);
  EXPECT_EQ(json->Str("segment"), text);
  EXPECT_EQ(json->Str("event"), "REDIS_ERROR_PANIC_TS");
  EXPECT_EQ(json->Int("pid"), 42);
}

// An independent, strict parser: Python's json module. Escapes are \u00XX
// code points, one per byte, so Latin-1 maps them back to the bytes.
TEST(LogLineTest, AnyBytesParseWithAStrictJsonParser) {
  const std::string python = "/usr/bin/python3";
  ASSERT_EQ(access(python.c_str(), X_OK), 0)
      << python << " is needed to check the JSON";
  const std::string text = Nasty();
  const std::string line = LineWith(text);
  RunResult r = vix::testing::Run(
      {python, "-c",
       "import json, sys\n"
       "line = sys.argv[1]\n"
       "obj = json.loads(line, parse_constant=lambda c: 1 / 0)\n"
       "assert '\\n' not in line\n"
       "for key in ('error', 'segment'):\n"
       "    print(obj[key].encode('latin-1').hex())\n"
       "print(obj['ts'], obj['event'], obj['pid'])\n",
       line});
  ASSERT_EQ(r.exit_code, 0) << "not valid JSON: " << r.err << "\n" << line;
  const std::string hex = absl::BytesToHexString(text);
  EXPECT_EQ(r.out,
            hex + "\n" + hex +
                "\n2025-11-29T16:30:00.123456Z REDIS_ERROR_PANIC_TS 42\n");
}

}  // namespace
}  // namespace vix::testing
