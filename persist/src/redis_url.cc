#include "vixbreaker/persist/redis_url.h"

#include <cstddef>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace vix::persist {
namespace {

constexpr size_t kMaxUrlLength = 4096;
constexpr size_t kMaxHostLength = 253;
constexpr size_t kMaxUnixPathLength = 107;  // sun_path is 108 with the NUL
constexpr int kMaxDb = 1 << 20;
constexpr size_t kMaxSentinels = 16;
constexpr size_t kMaxMasterName = 128;
constexpr int kSentinelPort = 26379;
constexpr absl::string_view kExpected =
    "expected redis://[user:password@]host:port/db, unix:///path or "
    "redis-sentinel://[user:password@]host:port[,host:port...]/MASTER[?db=N]";

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

// "host[:port]" or "[v6][:port]"; `out->port` keeps its default if absent.
absl::Status ParseHostPort(absl::string_view hostport, HostPort* out) {
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
  out->host = std::string(host);
  if (has_port && !ParseBounded(port, 1, 65535, &out->port)) {
    return UrlError(
        absl::StrCat("port \"", port, "\" is not a number 1..65535"));
  }
  return absl::OkStatus();
}

// Splits "userinfo@" off an authority, filling the endpoint's credentials.
absl::Status TakeUserinfo(absl::string_view* authority, RedisEndpoint* ep) {
  const size_t at = authority->rfind('@');
  if (at == absl::string_view::npos) return absl::OkStatus();
  absl::Status s = ParseUserinfo(authority->substr(0, at), ep);
  *authority = authority->substr(at + 1);
  return s;
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
  absl::Status s = TakeUserinfo(&authority, ep);
  if (!s.ok()) return s;
  HostPort hp{"", ep->port};
  s = ParseHostPort(authority, &hp);
  if (!s.ok()) return s;
  ep->host = std::move(hp.host);
  ep->port = hp.port;
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

absl::Status ParseSentinelList(absl::string_view list, RedisEndpoint* ep) {
  if (list.empty()) return UrlError("redis-sentinel:// lists no sentinel");
  size_t begin = 0;
  while (true) {
    const size_t comma = list.find(',', begin);
    if (ep->sentinels.size() == kMaxSentinels) {
      return UrlError(absl::StrCat("more than ", kMaxSentinels, " sentinels"));
    }
    HostPort hp{"", kSentinelPort};
    absl::Status s = ParseHostPort(list.substr(begin, comma - begin), &hp);
    if (!s.ok()) return s;
    ep->sentinels.push_back(std::move(hp));
    if (comma == absl::string_view::npos) return absl::OkStatus();
    begin = comma + 1;
  }
}

bool IsMasterNameChar(char c) { return IsHostChar(c) || c == ':'; }

absl::Status ParseMasterName(absl::string_view name, RedisEndpoint* ep) {
  if (name.empty()) {
    return UrlError("redis-sentinel:// needs the master's name after the '/'");
  }
  if (name.size() > kMaxMasterName) {
    return UrlError(
        absl::StrCat("master name longer than ", kMaxMasterName, " bytes"));
  }
  for (char c : name) {
    if (!IsMasterNameChar(c)) {
      return UrlError(absl::StrCat("bad character in master name \"", name,
                                   "\" (letters, digits, . - _ :)"));
    }
  }
  ep->master_name = std::string(name);
  return absl::OkStatus();
}

// One "key=value" of a redis-sentinel:// query; `seen` catches repeats.
absl::Status ParseSentinelParam(absl::string_view param, std::string* seen,
                                RedisEndpoint* ep) {
  const size_t eq = param.find('=');
  const absl::string_view key = param.substr(0, eq);
  const absl::string_view value =
      eq == absl::string_view::npos ? "" : param.substr(eq + 1);
  if (key != "db" && key != "sentinel_user" && key != "sentinel_password") {
    return UrlError(absl::StrCat(
        "unknown query parameter \"", key,
        "\" (redis-sentinel:// takes db, sentinel_user, sentinel_password)"));
  }
  if (absl::StrContains(*seen, absl::StrCat(" ", key, " "))) {
    return UrlError(absl::StrCat("query parameter \"", key, "\" given twice"));
  }
  absl::StrAppend(seen, " ", key, " ");
  if (key == "db") return ParseDb(value, ep);
  std::string* target =
      key == "sentinel_user" ? &ep->sentinel_user : &ep->sentinel_password;
  if (!PercentDecode(value, target)) {
    return UrlError(absl::StrCat("malformed %XX escape in ", key));
  }
  if (key == "sentinel_password" && target->empty()) {
    return UrlError("empty sentinel_password; drop it to ask without AUTH");
  }
  return absl::OkStatus();
}

absl::Status ParseSentinel(absl::string_view rest, RedisEndpoint* ep) {
  ep->transport = RedisEndpoint::Transport::kSentinel;
  if (rest.find('#') != absl::string_view::npos) {
    return UrlError("fragments are not supported in redis-sentinel://");
  }
  const size_t slash = rest.find('/');
  if (slash == absl::string_view::npos) {
    return UrlError("redis-sentinel:// needs /MASTER after the sentinels");
  }
  absl::string_view authority = rest.substr(0, slash);
  absl::Status s = TakeUserinfo(&authority, ep);
  if (s.ok()) s = ParseSentinelList(authority, ep);
  if (!s.ok()) return s;
  absl::string_view path = rest.substr(slash + 1);
  const size_t query = path.find('?');
  s = ParseMasterName(path.substr(0, query), ep);
  if (!s.ok() || query == absl::string_view::npos) return s;
  std::string seen;
  for (absl::string_view q = path.substr(query + 1);;) {
    const size_t amp = q.find('&');
    s = ParseSentinelParam(q.substr(0, amp), &seen, ep);
    if (!s.ok() || amp == absl::string_view::npos) return s;
    q = q.substr(amp + 1);
  }
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
  } else if (url.substr(0, 17) == "redis-sentinel://") {
    s = ParseSentinel(url.substr(17), &ep);
  } else if (url.substr(0, 9) == "rediss://") {
    s = UrlError(
        "TLS (rediss://) is not supported; use a local TLS tunnel (stunnel, "
        "docs/mirror.md)");
  } else {
    s = UrlError(
        "the URL must start with redis://, redis-sentinel:// or unix://");
  }
  const bool secret = url.find('@') != absl::string_view::npos ||
                      url.find("password") != absl::string_view::npos;
  if (!s.ok()) return secret ? Redact(s) : s;
  return ep;
}

std::string FormatHostPort(absl::string_view host, int port) {
  const bool ipv6 = host.find(':') != absl::string_view::npos;
  return absl::StrCat(ipv6 ? "[" : "", host, ipv6 ? "]" : "", ":", port);
}

std::string RedisEndpoint::Redacted() const {
  std::string credentials;
  if (!password.empty()) credentials = absl::StrCat(user, ":***@");
  if (transport == Transport::kSentinel) {
    std::string out = absl::StrCat("redis-sentinel://", credentials);
    for (size_t i = 0; i < sentinels.size(); ++i) {
      absl::StrAppend(&out, i == 0 ? "" : ",",
                      FormatHostPort(sentinels[i].host, sentinels[i].port));
    }
    absl::StrAppend(&out, "/", master_name);
    std::string query;
    if (db != 0) absl::StrAppend(&query, "&db=", db);
    if (!sentinel_user.empty()) {
      absl::StrAppend(&query, "&sentinel_user=", sentinel_user);
    }
    if (!sentinel_password.empty()) {
      absl::StrAppend(&query, "&sentinel_password=***");
    }
    if (!query.empty()) absl::StrAppend(&out, "?", query.substr(1));
    return out;
  }
  if (transport == Transport::kUnix) {
    return absl::StrCat("unix://", credentials, unix_path,
                        db != 0 ? absl::StrCat("?db=", db) : "");
  }
  return absl::StrCat("redis://", credentials, FormatHostPort(host, port), "/",
                      db);
}

}  // namespace vix::persist
