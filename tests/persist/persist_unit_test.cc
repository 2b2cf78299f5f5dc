// Pure parts of persist/: URL parsing, the wire format, the lease protocol
// on a segment, option validation. No Redis needed.
#include <unistd.h>

#include "gtest/gtest.h"
#include "test_util.h"
#include "vixbreaker/persist/lease.h"
#include "vixbreaker/persist/mirror.h"
#include "vixbreaker/persist/redis_url.h"
#include "vixbreaker/persist/wire.h"
#include "vixbreaker/shm/segment.h"

namespace vix::persist {
namespace {

using Transport = RedisEndpoint::Transport;

TEST(RedisUrlTest, TcpWithEverything) {
  auto ep = ParseRedisUrl("redis://alice:s3cr%40t@cache.example-1.net:6380/3");
  ASSERT_TRUE(ep.ok()) << ep.status();
  EXPECT_EQ(ep->transport, Transport::kTcp);
  EXPECT_EQ(ep->host, "cache.example-1.net");
  EXPECT_EQ(ep->port, 6380);
  EXPECT_EQ(ep->user, "alice");
  EXPECT_EQ(ep->password, "s3cr@t");
  EXPECT_EQ(ep->db, 3);
  EXPECT_EQ(ep->Redacted(), "redis://alice:***@cache.example-1.net:6380/3");
}

TEST(RedisUrlTest, DefaultsAndPasswordOnly) {
  auto ep = ParseRedisUrl("redis://:pw@10.0.0.5");
  ASSERT_TRUE(ep.ok()) << ep.status();
  EXPECT_EQ(ep->port, 6379);
  EXPECT_EQ(ep->db, 0);
  EXPECT_EQ(ep->user, "");
  EXPECT_EQ(ep->password, "pw");
  EXPECT_EQ(ep->Redacted(), "redis://:***@10.0.0.5:6379/0");
  auto plain = ParseRedisUrl("redis://localhost:7000/");
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(plain->Redacted(), "redis://localhost:7000/0");
}

TEST(RedisUrlTest, Ipv6AndUnix) {
  auto v6 = ParseRedisUrl("redis://[::1]:6390/1");
  ASSERT_TRUE(v6.ok()) << v6.status();
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->Redacted(), "redis://[::1]:6390/1");
  auto unix_url = ParseRedisUrl("unix:///run/redis/redis.sock");
  ASSERT_TRUE(unix_url.ok()) << unix_url.status();
  EXPECT_EQ(unix_url->transport, Transport::kUnix);
  EXPECT_EQ(unix_url->unix_path, "/run/redis/redis.sock");
  auto unix_auth = ParseRedisUrl("unix://bob:pw@/tmp/r.sock?db=2");
  ASSERT_TRUE(unix_auth.ok()) << unix_auth.status();
  EXPECT_EQ(unix_auth->user, "bob");
  EXPECT_EQ(unix_auth->db, 2);
  EXPECT_EQ(unix_auth->Redacted(), "unix://bob:***@/tmp/r.sock?db=2");
}

TEST(RedisUrlTest, RejectsBadUrlsWithClearErrors) {
  const std::pair<const char*, const char*> cases[] = {
      {"", "must start with redis://, redis-sentinel:// or unix://"},
      {"http://h:1/0",
       "must start with redis://, redis-sentinel:// or unix://"},
      {"rediss://h:1/0", "TLS"},
      {"redis://", "missing host"},
      {"redis://h:0/0", "1..65535"},
      {"redis://h:65536/0", "1..65535"},
      {"redis://h:12a/0", "1..65535"},
      {"redis://h:1/x", "database"},
      {"redis://h:1/0?timeout=1", "queries"},
      {"redis://h h:1/0", "space"},
      {"redis://user@h:1/0", "user:password@"},
      {"redis://user:@h:1/0", "empty password"},
      {"redis://u:%zz@h:1/0", "escape"},
      {"redis://[::1:1/0", "']'"},
      {"unix://", "absolute socket path"},
      {"unix://host/path", "no host"},
      {"unix:///p?x=1", "db=N"},
      // redis-sentinel:// (SPEC 14)
      {"redis-sentinel://", "needs /MASTER"},
      {"redis-sentinel://h:1", "needs /MASTER"},
      {"redis-sentinel:///m", "lists no sentinel"},
      {"redis-sentinel://h:1/", "master's name"},
      {"redis-sentinel://h:1,/m", "missing host"},
      {"redis-sentinel://h:1,,h:2/m", "missing host"},
      {"redis-sentinel://h:99999/m", "1..65535"},
      {"redis-sentinel://h:1/m/x", "bad character in master name"},
      {"redis-sentinel://h:1/m?db=x", "database"},
      {"redis-sentinel://h:1/m?timeout=1", "unknown query parameter"},
      {"redis-sentinel://h:1/m?db=1&db=2", "given twice"},
      {"redis-sentinel://h:1/m?sentinel_password=", "empty sentinel_password"},
      {"redis-sentinel://h:1/m?sentinel_user=%zz", "escape"},
      {"redis-sentinel://h:1/m#f", "fragments"},
      {"redis-sentinel://u@h:1/m", "user:password@"},
      {"redis-sentinel://h:1,h:2,h:3,h:4,h:5,h:6,h:7,h:8,h:9,h:10,h:11,h:12,"
       "h:13,h:14,h:15,h:16,h:17/m",
       "more than 16"},
  };
  for (const auto& [url, expected] : cases) {
    auto ep = ParseRedisUrl(url);
    ASSERT_FALSE(ep.ok()) << url;
    EXPECT_TRUE(absl::IsInvalidArgument(ep.status())) << url;
    EXPECT_NE(ep.status().message().find(expected), std::string::npos)
        << url << " -> " << ep.status();
  }
}

TEST(RedisUrlTest, ErrorsNeverShowAPassword) {
  // A '/' in an unencoded password shifts it into host and port.
  for (const char* url :
       {"redis://u:top/secret@h:1/0", "redis://u:topsecret@h:99999/0",
        "redis://u:topsecret@h:1/zz", "redis://u:top secret@h:1/0",
        "redis-sentinel://u:top/secret@h:1/m",
        "redis-sentinel://h:1/m?sentinel_password=topsecret&zz=topsecret",
        "redis-sentinel://h:1/m?sentinel_password=topsecret&db=topsecret",
        "redis-sentinel://u:topsecret@h:topsecret/m"}) {
    auto ep = ParseRedisUrl(url);
    ASSERT_FALSE(ep.ok()) << "should be rejected";
    EXPECT_EQ(ep.status().message().find("secret"), std::string::npos)
        << ep.status();
  }
}

TEST(WireTest, KeysAndChannels) {
  EXPECT_EQ(KeyForScope(kDefaultKeyPrefix, "global"), "brain:panic_start_ts");
  EXPECT_EQ(KeyForScope(kDefaultKeyPrefix, "ucl-final"),
            "brain:panic_start_ts:ucl-final");
  EXPECT_EQ(ChannelForKey("brain:panic_start_ts"),
            "brain:panic_start_ts:events");
  EXPECT_TRUE(ValidateKeyPrefix("a:b").ok());
  EXPECT_FALSE(ValidateKeyPrefix("").ok());
  EXPECT_FALSE(ValidateKeyPrefix("a b").ok());
  EXPECT_FALSE(ValidateKeyPrefix(std::string(201, 'k')).ok());
}

constexpr int64_t kNow = 1'764'420'000'000'000'000;  // 2025-11-29
constexpr int64_t kHour = 3'600'000'000'000;

TEST(WireTest, ReadsThePredecessorsFloatText) {
  for (const char* text : {"1764420000.123456", "1764420000.1234567",
                           "1764420000.0", "1764420000", "1.7644200001e9"}) {
    ParsedValue v = ParseRedisValue(text, kNow, kHour);
    EXPECT_EQ(v.problem, ValueProblem::kNone) << text << ": " << v.error;
    EXPECT_NEAR(static_cast<double>(v.start_ns), 1764420000.1e9, 0.2e9) << text;
  }
  ParsedValue v = ParseRedisValue("1764420000.123456", kNow, kHour);
  EXPECT_NEAR(v.start_ns, 1'764'420'000'123'456'000, 1000);
}

TEST(WireTest, WritesTextThePredecessorReadsAndRoundTrips) {
  const int64_t start = 1'764'420'000'123'456'789;
  const std::string text = FormatUnixSeconds(start);
  EXPECT_EQ(text, "1764420000.123457");  // Python float() reads this
  ParsedValue back = ParseRedisValue(text, kNow, kHour);
  ASSERT_EQ(back.problem, ValueProblem::kNone);
  EXPECT_EQ(FormatUnixSeconds(back.start_ns), text);  // stable
  EXPECT_EQ(FormatUnixSeconds(1'000'000'000), "1.000000");
}

TEST(WireTest, RejectsInvalidValuesByKind) {
  const std::pair<const char*, ValueProblem> cases[] = {
      {"garbage", ValueProblem::kGarbage},
      {"", ValueProblem::kGarbage},
      {" 1764420000", ValueProblem::kGarbage},
      {"0x10", ValueProblem::kGarbage},
      {"nan", ValueProblem::kNotFinite},
      {"NaN", ValueProblem::kNotFinite},
      {"inf", ValueProblem::kNotFinite},
      {"-inf", ValueProblem::kNotFinite},
      {"1e400", ValueProblem::kNotFinite},
      {"-5", ValueProblem::kNotPositive},
      {"0", ValueProblem::kNotPositive},
      {"-1e400", ValueProblem::kNotPositive},
      {"99999999999", ValueProblem::kFarFuture},
      {"1e15", ValueProblem::kFarFuture},
  };
  for (const auto& [text, problem] : cases) {
    ParsedValue v = ParseRedisValue(text, kNow, kHour);
    EXPECT_EQ(ValueProblemName(v.problem), ValueProblemName(problem))
        << "\"" << text << "\": " << v.error;
    EXPECT_FALSE(v.error.empty()) << text;
  }
  // Clock skew within the bound is accepted.
  EXPECT_EQ(ParseRedisValue("1764420060", kNow, kHour).problem,
            ValueProblem::kNone);
}

// ---- the lease, on a real segment ------------------------------------------

class LeaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    shm::SegmentOptions options;
    options.name = name_.name();
    auto segment = shm::Segment::OpenOrCreate(options);
    ASSERT_TRUE(segment.ok()) << segment.status();
    segment_ = *std::move(segment);
  }
  shm::MirrorLease& lease() { return segment_->mutable_layout()->lease; }

  static constexpr int64_t kPeriod = 1'000'000'000;
  // Beyond pid_max: never a running process.
  static constexpr pid_t kDeadPid = 1 << 30;
  testing::ScopedSegmentName name_{"lease"};
  std::unique_ptr<shm::Segment> segment_;
};

TEST_F(LeaseTest, FreeLeaseIsTakenAndHeld) {
  LeaseAttempt a = TryAcquireLease(lease(), getpid(), 7, kNow, kPeriod);
  EXPECT_TRUE(a.acquired);
  EXPECT_EQ(a.why, "free");
  EXPECT_TRUE(HoldsLease(lease(), getpid()));
  EXPECT_EQ(lease().expiry_mono_ns.load(), kNow + kPeriod);
  EXPECT_EQ(lease().holder_start_ticks.load(), 7u);
  EXPECT_EQ(lease().takeovers.load(), 0u);
  EXPECT_TRUE(RenewLease(lease(), getpid(), kNow + 10, kPeriod));
  EXPECT_EQ(lease().expiry_mono_ns.load(), kNow + 10 + kPeriod);
}

TEST_F(LeaseTest, LiveUnexpiredHolderKeepsIt) {
  // The parent of this test is alive: a live holder.
  const pid_t live = getppid();
  ASSERT_TRUE(TryAcquireLease(lease(), live, 0, kNow, kPeriod).acquired);
  LeaseAttempt a = TryAcquireLease(lease(), getpid(), 0, kNow + 1, kPeriod);
  EXPECT_FALSE(a.acquired);
  EXPECT_EQ(a.why, "busy");
  EXPECT_FALSE(HoldsLease(lease(), getpid()));
  // Once expired, it is taken over and counted.
  a = TryAcquireLease(lease(), getpid(), 0, kNow + kPeriod + 1, kPeriod);
  EXPECT_TRUE(a.acquired);
  EXPECT_EQ(a.why, "expired");
  EXPECT_EQ(a.previous_pid, live);
  EXPECT_EQ(lease().takeovers.load(), 1u);
  // The old holder learns it lost the lease when it tries to renew.
  EXPECT_FALSE(RenewLease(lease(), live, kNow + kPeriod + 2, kPeriod));
}

TEST_F(LeaseTest, DeadHolderIsReplacedAtOnce) {
  ASSERT_TRUE(TryAcquireLease(lease(), kDeadPid, 0, kNow, kPeriod).acquired);
  LeaseAttempt a = TryAcquireLease(lease(), getpid(), 0, kNow + 1, kPeriod);
  EXPECT_TRUE(a.acquired);
  EXPECT_EQ(a.why, "holder_dead");
  EXPECT_EQ(a.previous_pid, kDeadPid);
}

TEST_F(LeaseTest, ReleaseFreesItForTheNextProcess) {
  ASSERT_TRUE(TryAcquireLease(lease(), getpid(), 0, kNow, kPeriod).acquired);
  ReleaseLease(lease(), getppid());  // not the holder: no effect
  EXPECT_TRUE(HoldsLease(lease(), getpid()));
  ReleaseLease(lease(), getpid());
  EXPECT_EQ(lease().holder_pid.load(), 0);
  LeaseAttempt a = TryAcquireLease(lease(), getppid(), 0, kNow + 1, kPeriod);
  EXPECT_TRUE(a.acquired);
  EXPECT_EQ(a.why, "free");
}

TEST(MirrorOptionsTest, ValidatesEveryField) {
  MirrorOptions o;
  o.redis_url = "redis://127.0.0.1:6379/0";
  EXPECT_TRUE(ValidateMirrorOptions(o).ok()) << ValidateMirrorOptions(o);

  MirrorOptions bad_url = o;
  bad_url.redis_url = "redis://u:hunter2@h:0/0";
  absl::Status s = ValidateMirrorOptions(bad_url);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.message().find("hunter2"), std::string::npos) << s;

  MirrorOptions zero_poll = o;
  zero_poll.poll_interval = absl::ZeroDuration();
  s = ValidateMirrorOptions(zero_poll);
  EXPECT_NE(s.message().find("poll_interval"), std::string::npos) << s;

  MirrorOptions short_lease = o;
  short_lease.lease_period = absl::Seconds(1);  // timeouts of 0.5 s
  s = ValidateMirrorOptions(short_lease);
  EXPECT_NE(s.message().find("lease period"), std::string::npos) << s;

  MirrorOptions prefix = o;
  prefix.key_prefix = "has space";
  EXPECT_FALSE(ValidateMirrorOptions(prefix).ok());

  EXPECT_TRUE(ParseUnhealthyPolicy("strict").ok());
  EXPECT_TRUE(ParseUnhealthyPolicy("local").ok());
  EXPECT_FALSE(ParseUnhealthyPolicy("Strict").ok());
}

}  // namespace
}  // namespace vix::persist
