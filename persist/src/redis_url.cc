#include "vixbreaker/persist/redis_url.h"

#include <cstddef>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace vix::persist {
namespace {

constexpr size_t kMaxUrlLength = 4096;
constexpr size_t kMaxHostLength = 253;
constexpr size_t kMaxUnixPathLength = 107;  // sun_path is 108 with the NUL
constexpr int kMaxDb = 1 << 20;
constexpr absl::string_view kExpected =
    "expected redis://[user:password@]host:port/db or unix:///path";

absl::Status UrlError(absl::string_view what) {
  // Never quotes the URL itself: it may hold a password.
  return absl::InvalidArgumentError(
      absl::StrCat("bad Redis URL: ", what, "; ", kExpected));
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

int HexValue(char c) {
  if (IsDigit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes %XX escapes; false on a malformed escape.
bool PercentDecode(absl::string_view in, std::string* out) {
  out->clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out->push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) return false;
    const int hi = HexValue(in[i + 1]);
    const int lo = HexValue(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return true;
}

// Parses a decimal without sign into [min, max].
bool ParseBounded(absl::string_view text, int min, int max, int* out) {
  if (text.empty() || text.size() > 9) return false;
  int value = 0;
  for (char c : text) {
    if (!IsDigit(c)) return false;
    value = value * 10 + (c - '0');
  }
  if (value < min || value > max) return false;
  *out = value;
  return true;
}

// "user:password" -> endpoint fields. The password must not be empty.
absl::Status ParseUserinfo(absl::string_view userinfo, RedisEndpoint* ep) {
  const size_t colon = userinfo.find(':');
  if (colon == absl::string_view::npos) {
    return UrlError(
        "credentials must be user:password@ (or :password@ for the default "
        "user)");
  }
  if (!PercentDecode(userinfo.substr(0, colon), &ep->user) ||
      !PercentDecode(userinfo.substr(colon + 1), &ep->password)) {
    return UrlError("malformed %XX escape in the user name or password");
  }
  if (ep->password.empty()) {
    return UrlError(
        "empty password; drop the user:password@ part to connect without "
        "AUTH");
  }
  return absl::OkStatus();
}

bool IsHostChar(char c) {
  return IsDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         c == '.' || c == '-' || c == '_';
}

bool IsIpv6Char(char c) { return HexValue(c) >= 0 || c == ':' || c == '.'; }

absl::Status ParseHostPort(absl::string_view hostport, RedisEndpoint* ep) {
  absl::string_view host = hostport;
  absl::string_view port;
  bool has_port = false;
  if (!hostport.empty() && hostport[0] == '[') {
    const size_t close = hostport.find(']');
    if (close == absl::string_view::npos) {
      return UrlError("IPv6 host without closing ']'");
    }
    host = hostport.substr(1, close - 1);
    absl::string_view after = hostport.substr(close + 1);
    if (!after.empty() && after[0] != ':') {
      return UrlError("unexpected text after the IPv6 host's ']'");
    }
    has_port = !after.empty();
    if (has_port) port = after.substr(1);
    for (char c : host) {
      if (!IsIpv6Char(c)) return UrlError("bad character in the IPv6 host");
    }
  } else {
    const size_t colon = hostport.find(':');
    if (colon != absl::string_view::npos) {
      host = hostport.substr(0, colon);
      port = hostport.substr(colon + 1);
      has_port = true;
    }
    for (char c : host) {
      if (!IsHostChar(c)) {
        return UrlError(absl::StrCat("bad character in host \"", host,
                                     "\" (IPv6 addresses go in [])"));
      }
    }
  }
  if (host.empty()) return UrlError("missing host");
  if (host.size() > kMaxHostLength) return UrlError("host name too long");
  ep->host = std::string(host);
  if (has_port && !ParseBounded(port, 1, 65535, &ep->port)) {
    return UrlError(
        absl::StrCat("port \"", port, "\" is not a number 1..65535"));
  }
  return absl::OkStatus();
}

absl::Status ParseDb(absl::string_view text, RedisEndpoint* ep) {
  if (!ParseBounded(text, 0, kMaxDb, &ep->db)) {
    return UrlError(
        absl::StrCat("database \"", text, "\" is not a number 0..", kMaxDb));
  }
  return absl::OkStatus();
}

absl::Status ParseTcp(absl::string_view rest, RedisEndpoint* ep) {
  if (rest.find_first_of("?#") != absl::string_view::npos) {
    return UrlError("queries and fragments are not supported in redis://");
  }
  const size_t slash = rest.find('/');
  absl::string_view authority = rest.substr(0, slash);
  absl::string_view path =
      slash == absl::string_view::npos ? "" : rest.substr(slash);
  const size_t at = authority.rfind('@');
  if (at != absl::string_view::npos) {
    absl::Status s = ParseUserinfo(authority.substr(0, at), ep);
    if (!s.ok()) return s;
    authority = authority.substr(at + 1);
  }
  absl::Status s = ParseHostPort(authority, ep);
  if (!s.ok()) return s;
  if (path.empty() || path == "/") return absl::OkStatus();
  return ParseDb(path.substr(1), ep);
}

absl::Status ParseUnix(absl::string_view rest, RedisEndpoint* ep) {
  ep->transport = RedisEndpoint::Transport::kUnix;
  if (rest.find('#') != absl::string_view::npos) {
    return UrlError("fragments are not supported in unix://");
  }
  const size_t slash = rest.find('/');
  if (slash == absl::string_view::npos) {
    return UrlError("unix:// needs an absolute socket path (unix:///path)");
  }
  absl::string_view authority = rest.substr(0, slash);
  if (!authority.empty()) {
    if (authority.back() != '@') {
      return UrlError(
          "unix:// takes no host; write unix:///path or "
          "unix://user:password@/path");
    }
    absl::Status s =
        ParseUserinfo(authority.substr(0, authority.size() - 1), ep);
    if (!s.ok()) return s;
  }
  absl::string_view path = rest.substr(slash);
  const size_t query = path.find('?');
  if (query != absl::string_view::npos) {
    absl::string_view q = path.substr(query + 1);
    path = path.substr(0, query);
    if (q.substr(0, 3) != "db=") {
      return UrlError("the only query unix:// accepts is ?db=N");
    }
    absl::Status s = ParseDb(q.substr(3), ep);
    if (!s.ok()) return s;
  }
  if (path.size() < 2) return UrlError("empty unix socket path");
  if (path.size() > kMaxUnixPathLength) {
    return UrlError(absl::StrCat("unix socket path longer than ",
                                 kMaxUnixPathLength, " bytes"));
  }
  ep->unix_path = std::string(path);
  return absl::OkStatus();
}

// With credentials in the URL a misplaced delimiter can shift password
// bytes into the host or port, so no quoted part is shown at all.
absl::Status Redact(const absl::Status& status) {
  std::string out;
  bool quoted = false;
  for (char c : status.message()) {
    if (c == '"') {
      if (!quoted) out += "\"(hidden)\"";
      quoted = !quoted;
    } else if (!quoted) {
      out.push_back(c);
    }
  }
  return absl::InvalidArgumentError(out);
}

}  // namespace

absl::StatusOr<RedisEndpoint> ParseRedisUrl(absl::string_view url) {
  if (url.size() > kMaxUrlLength) {
    return UrlError(absl::StrCat("longer than ", kMaxUrlLength, " bytes"));
  }
  for (size_t i = 0; i < url.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(url[i]);
    if (c <= 0x20 || c >= 0x7f) {
      return UrlError(
          absl::StrCat("space, control or non-ASCII byte at offset ", i,
                       " (percent-encode it in the password)"));
    }
  }
  RedisEndpoint ep;
  absl::Status s;
  if (url.substr(0, 8) == "redis://") {
    s = ParseTcp(url.substr(8), &ep);
  } else if (url.substr(0, 7) == "unix://") {
    s = ParseUnix(url.substr(7), &ep);
  } else if (url.substr(0, 9) == "rediss://") {
    s = UrlError("TLS (rediss://) is not supported");
  } else {
    s = UrlError("the URL must start with redis:// or unix://");
  }
  if (!s.ok()) return url.find('@') == absl::string_view::npos ? s : Redact(s);
  return ep;
}

std::string RedisEndpoint::Redacted() const {
  std::string credentials;
  if (!password.empty()) credentials = absl::StrCat(user, ":***@");
  if (transport == Transport::kUnix) {
    return absl::StrCat("unix://", credentials, unix_path,
                        db != 0 ? absl::StrCat("?db=", db) : "");
  }
  const bool ipv6 = host.find(':') != std::string::npos;
  return absl::StrCat("redis://", credentials, ipv6 ? "[" : "", host,
                      ipv6 ? "]" : "", ":", port, "/", db);
}

}  // namespace vix::persist
