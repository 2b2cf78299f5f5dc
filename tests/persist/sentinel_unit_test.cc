// redis-sentinel:// URLs and the Sentinel resolver's pure steps (replies
// built by hand, the shapes redis-sentinel 7 sends). The resolver against
// real sentinels is in deployment_test.
#include "gtest/gtest.h"
#include "sentinel.h"
#include "vixbreaker/persist/redis_url.h"

namespace vix::persist {
namespace {

using internal::Reply;
using Transport = RedisEndpoint::Transport;

Reply Text(const std::string& s) {
  Reply r;
  r.type = Reply::Type::kString;
  r.str = s;
  return r;
}

Reply Array(std::vector<Reply> elements) {
  Reply r;
  r.type = Reply::Type::kArray;
  r.elements = std::move(elements);
  return r;
}

Reply Error(const std::string& s) {
  Reply r;
  r.type = Reply::Type::kError;
  r.str = s;
  return r;
}

TEST(SentinelUrlTest, EverythingParsed) {
  auto ep = ParseRedisUrl(
      "redis-sentinel://app:m%40ster@10.0.0.1:26380,s2,[::1]:26381/"
      "cache-main?db=3&sentinel_user=watch&sentinel_password=s%26cret");
  ASSERT_TRUE(ep.ok()) << ep.status();
  EXPECT_EQ(ep->transport, Transport::kSentinel);
  ASSERT_EQ(ep->sentinels.size(), 3u);
  EXPECT_EQ(ep->sentinels[0].host, "10.0.0.1");
  EXPECT_EQ(ep->sentinels[0].port, 26380);
  EXPECT_EQ(ep->sentinels[1].host, "s2");
  EXPECT_EQ(ep->sentinels[1].port, 26379) << "the sentinel default port";
  EXPECT_EQ(ep->sentinels[2].host, "::1");
  EXPECT_EQ(ep->master_name, "cache-main");
  EXPECT_EQ(ep->user, "app");
  EXPECT_EQ(ep->password, "m@ster");
  EXPECT_EQ(ep->db, 3);
  EXPECT_EQ(ep->sentinel_user, "watch");
  EXPECT_EQ(ep->sentinel_password, "s&cret");
  EXPECT_EQ(ep->Redacted(),
            "redis-sentinel://app:***@10.0.0.1:26380,s2:26379,[::1]:26381/"
            "cache-main?db=3&sentinel_user=watch&sentinel_password=***");
}

TEST(SentinelUrlTest, Minimal) {
  auto ep = ParseRedisUrl("redis-sentinel://127.0.0.1:5000/mymaster");
  ASSERT_TRUE(ep.ok()) << ep.status();
  EXPECT_EQ(ep->password, "");
  EXPECT_EQ(ep->sentinel_password, "");
  EXPECT_EQ(ep->db, 0);
  EXPECT_EQ(ep->Redacted(), "redis-sentinel://127.0.0.1:5000/mymaster");
}

TEST(SentinelResolverTest, MasterAddressReply) {
  auto ok =
      internal::ParseMasterAddrReply(Array({Text("127.0.0.1"), Text("6380")}));
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->host, "127.0.0.1");
  EXPECT_EQ(ok->port, 6380);
  EXPECT_TRUE(
      absl::IsNotFound(internal::ParseMasterAddrReply(Reply{}).status()))
      << "nil: the sentinel does not know the name";
  auto refused =
      internal::ParseMasterAddrReply(Error("NOAUTH Authentication required."));
  EXPECT_TRUE(absl::IsFailedPrecondition(refused.status()));
  EXPECT_NE(refused.status().message().find("NOAUTH"), std::string::npos);
  for (const Reply& bad :
       {Array({Text("127.0.0.1")}), Array({Text("h"), Text("0")}),
        Array({Text("h"), Text("65536")}), Array({Text(""), Text("1")}),
        Array({Text("h"), Text("12x")}), Text("127.0.0.1:6379")}) {
    EXPECT_TRUE(absl::IsDataLoss(internal::ParseMasterAddrReply(bad).status()));
  }
}

TEST(SentinelResolverTest, OnlyAMasterRoleIsAccepted) {
  Reply integer;
  integer.type = Reply::Type::kInteger;
  EXPECT_TRUE(
      internal::CheckMasterRole(Array({Text("master"), integer, Array({})}))
          .ok());
  const absl::Status replica = internal::CheckMasterRole(Array(
      {Text("slave"), Text("127.0.0.1"), integer, Text("connected"), integer}));
  EXPECT_TRUE(absl::IsFailedPrecondition(replica));
  EXPECT_NE(replica.message().find("slave"), std::string::npos) << replica;
  EXPECT_TRUE(absl::IsFailedPrecondition(
      internal::CheckMasterRole(Array({Text("sentinel"), Array({})}))));
  EXPECT_TRUE(absl::IsFailedPrecondition(
      internal::CheckMasterRole(Error("NOAUTH Authentication required."))));
  EXPECT_TRUE(absl::IsDataLoss(internal::CheckMasterRole(Array({}))));
  EXPECT_TRUE(absl::IsDataLoss(internal::CheckMasterRole(Text("master"))));
}

TEST(SentinelResolverTest, SwitchMasterMessage) {
  auto change =
      internal::ParseSwitchMaster("vixmaster 127.0.0.1 6379 127.0.0.1 6380");
  ASSERT_TRUE(change.has_value());
  EXPECT_EQ(change->name, "vixmaster");
  EXPECT_EQ(change->from.port, 6379);
  EXPECT_EQ(change->to.host, "127.0.0.1");
  EXPECT_EQ(change->to.port, 6380);
  for (const char* bad : {"", "vixmaster 127.0.0.1 6379 127.0.0.1",
                          "vixmaster 127.0.0.1 6379 127.0.0.1 x",
                          "vixmaster 127.0.0.1 6379 127.0.0.1 6380 extra",
                          "vixmaster 127.0.0.1 0 127.0.0.1 6380"}) {
    EXPECT_FALSE(internal::ParseSwitchMaster(bad).has_value()) << bad;
  }
}

TEST(SentinelResolverTest, AsksTheLastGoodSentinelFirstThenTheRestInTurn) {
  EXPECT_EQ(internal::SentinelOrder(3, 0), (std::vector<size_t>{0, 1, 2}));
  EXPECT_EQ(internal::SentinelOrder(3, 2), (std::vector<size_t>{2, 0, 1}));
  EXPECT_EQ(internal::SentinelOrder(3, 7), (std::vector<size_t>{0, 1, 2}));
  EXPECT_TRUE(internal::SentinelOrder(0, 0).empty());
}

TEST(SentinelResolverTest, CredentialsGoWhereTheyBelong) {
  auto url = ParseRedisUrl(
      "redis-sentinel://app:mpw@s1:1,s2:2/m?db=4&sentinel_user=w&"
      "sentinel_password=spw");
  ASSERT_TRUE(url.ok()) << url.status();
  const RedisEndpoint master =
      internal::MasterEndpoint(*url, HostPort{"10.1.1.1", 6390});
  EXPECT_EQ(master.transport, Transport::kTcp);
  EXPECT_EQ(master.host, "10.1.1.1");
  EXPECT_EQ(master.port, 6390);
  EXPECT_EQ(master.user, "app");
  EXPECT_EQ(master.password, "mpw");
  EXPECT_EQ(master.db, 4);
  const RedisEndpoint sentinel = internal::SentinelEndpoint(*url, 1);
  EXPECT_EQ(sentinel.host, "s2");
  EXPECT_EQ(sentinel.port, 2);
  EXPECT_EQ(sentinel.user, "w");
  EXPECT_EQ(sentinel.password, "spw");
  EXPECT_EQ(sentinel.db, 0) << "a sentinel has no SELECT";
}

}  // namespace
}  // namespace vix::persist
