// The mirror's connections (SPEC 5, 14): connect, resolve through Sentinel,
// follow +switch-master, fail and back off, run one command.
#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "mirror_loop.h"
#include "vixbreaker/persist/lease.h"
#include "vixbreaker/shm/event_log.h"
#include "vixbreaker/shm/process.h"

namespace vix::persist {
namespace {

int64_t Ns(absl::Duration d) { return absl::ToInt64Nanoseconds(d); }

std::string FirstWord(absl::string_view text) {
  return std::string(text.substr(0, text.find(' ')));
}

}  // namespace

// ---- connections ----------------------------------------------------------

void Mirror::Loop::Connect(int64_t now) {
  internal::ConnectionOptions co;
  co.endpoint = endpoint_;
  co.connect_timeout = options_.connect_timeout;
  co.command_timeout = options_.command_timeout;
  co.client_name = absl::StrCat("vixmirror-", pid_);
  if (!ConnectMain(co)) return;
  absl::StatusOr<std::string> run_id = ReadRunId();
  if (!run_id.ok()) return;
  // Connecting can take several timeouts (more with Sentinel): renew the
  // lease before the second connection.
  StepLease(shm::MonotonicNowNs());
  if (!holder_) return;
  co.endpoint = master_;
  co.client_name += "-sub";
  absl::StatusOr<std::unique_ptr<internal::RedisConnection>> sub =
      internal::RedisConnection::Connect(co, &commands_);
  if (!sub.ok()) return FailConnection(sub.status(), "connect");
  sub_ = *std::move(sub);
  std::vector<std::string> subscribe = {"SUBSCRIBE"};
  for (const ScopeSync& s : scopes_) {
    if (s.known) subscribe.push_back(s.channel);
  }
  if (subscribe.size() > 1) {
    absl::Status sent = sub_->Send(subscribe);
    if (!sent.ok()) return FailConnection(sent, "io");
  }
  ++generation_;
  const bool restarted = !run_id_.empty() && *run_id != run_id_;
  run_id_ = *run_id;
  if (ever_connected_) health_.CountReconnect();
  const bool reconnect = ever_connected_;
  ever_connected_ = true;
  health_.SetConnected(true);
  MarkSuccess();
  backoff_ns_ = Ns(options_.backoff_initial);
  next_poll_ns_ = now;  // resynchronise every scope at once
  next_run_id_check_ns_ = now + run_id_check_ns_;
  ClearLoggedErrors(/*connection_kinds=*/true, "");
  JsonObject line = Line("REDIS_CONNECTED");
  line.Str("redis", endpoint_.Redacted());
  if (resolver_ != nullptr) {
    line.Str("master", FormatHostPort(master_.host, master_.port));
  }
  Log(line.Str("run_id", run_id_)
          .Bool("reconnect", reconnect)
          .Bool("redis_restarted", restarted));
}

bool Mirror::Loop::ConnectMain(const internal::ConnectionOptions& co) {
  if (resolver_ == nullptr) {
    absl::StatusOr<std::unique_ptr<internal::RedisConnection>> conn =
        internal::RedisConnection::Connect(co, &commands_);
    if (!conn.ok()) {
      FailConnection(conn.status(), "connect");
      return false;
    }
    conn_ = *std::move(conn);
    master_ = endpoint_;
    return true;
  }
  // Asking several sentinels can take a few timeouts: keep the lease (and
  // a stop request) in view between them.
  absl::StatusOr<internal::ResolvedMaster> found = resolver_->Resolve([this] {
    StepLease(shm::MonotonicNowNs());
    return holder_ && !stop_.load(std::memory_order_relaxed);
  });
  if (!found.ok()) {
    if (holder_) FailConnection(found.status(), "sentinel");
    return false;
  }
  conn_ = std::move(found->connection);
  master_ = internal::MasterEndpoint(endpoint_, found->address);
  return true;
}

void Mirror::Loop::WatchSwitches(int64_t now) {
  if (resolver_ == nullptr) return;
  if (switches_ == nullptr) {
    if (now < next_switches_ns_) return;
    next_switches_ns_ = now + poll_ns_;
    absl::StatusOr<std::unique_ptr<internal::RedisConnection>> sub =
        resolver_->SubscribeSwitches();
    if (!sub.ok()) {
      LogErrorOnce("sentinel_watch", "",
                   absl::StrCat("cannot subscribe to +switch-master: ",
                                sub.status().message()));
      return;
    }
    switches_ = *std::move(sub);
    logged_errors_.erase("sentinel_watch|");
    return;
  }
  while (switches_ != nullptr) {
    absl::StatusOr<std::optional<internal::Reply>> next =
        switches_->NextBufferedReply();
    if (!next.ok()) return DropSwitches(next.status());
    if (!next->has_value()) return;
    const internal::Reply& r = **next;
    if (r.type != internal::Reply::Type::kArray || r.elements.size() != 3 ||
        r.elements[0].str != "message") {
      continue;  // the subscribe confirmation
    }
    std::optional<internal::MasterSwitch> change =
        internal::ParseSwitchMaster(r.elements[2].str);
    if (change.has_value() && change->name == endpoint_.master_name) {
      OnSwitch(*change);
    }
  }
}

void Mirror::Loop::DropSwitches(const absl::Status& status) {
  switches_.reset();
  LogErrorOnce(
      "sentinel_watch", "",
      absl::StrCat("lost the +switch-master subscription: ", status.message()));
}

void Mirror::Loop::OnSwitch(const internal::MasterSwitch& change) {
  const std::string to = FormatHostPort(change.to.host, change.to.port);
  const bool there = connected() && master_.host == change.to.host &&
                     master_.port == change.to.port;
  Log(Line("REDIS_MASTER_SWITCHED")
          .Str("master_name", change.name)
          .Str("from", FormatHostPort(change.from.host, change.from.port))
          .Str("to", to)
          .Bool("reconnect", !there));
  if (there) return;
  // Resolve again now, not after the backoff: the sentinels agree on `to`.
  Disconnect();
  next_connect_ns_ = 0;
  backoff_ns_ = Ns(options_.backoff_initial);
}

absl::StatusOr<std::string> Mirror::Loop::ReadRunId() {
  std::optional<internal::Reply> reply = Exec({"INFO", "server"});
  if (!reply.has_value()) {
    return absl::UnavailableError("connection lost during INFO");
  }
  if (reply->IsError()) {
    // NOAUTH and the like: the connection is useless, start over.
    const std::string text = absl::StrCat("Redis at ", endpoint_.Redacted(),
                                          " refused INFO: ", reply->str);
    const bool auth = absl::StartsWith(reply->str, "NOAUTH") ||
                      absl::StartsWith(reply->str, "NOPERM");
    absl::Status refused = auth ? absl::PermissionDeniedError(text)
                                : absl::FailedPreconditionError(text);
    FailConnection(refused,
                   auth ? std::string("auth")
                        : absl::StrCat("error_reply:", FirstWord(reply->str)));
    return refused;
  }
  if (reply->type != internal::Reply::Type::kString) return std::string();
  const size_t at = reply->str.find("run_id:");
  if (at == std::string::npos) return std::string();
  const size_t begin = at + 7;
  const size_t end = reply->str.find_first_of("\r\n", begin);
  return reply->str.substr(begin, end - begin);
}

void Mirror::Loop::CheckRunId(int64_t now) {
  next_run_id_check_ns_ = now + run_id_check_ns_;
  absl::StatusOr<std::string> id = ReadRunId();
  if (!id.ok() || id->empty()) return;
  if (!run_id_.empty() && *id != run_id_) {
    // Restarted behind a connection that survived (a proxy): its keys may
    // be gone, so missing keys are published again, not taken as ends.
    ++generation_;
    next_poll_ns_ = now;
    Log(Line("REDIS_RESTART_DETECTED")
            .Str("previous_run_id", run_id_)
            .Str("run_id", *id));
  }
  run_id_ = *id;
}

void Mirror::Loop::FailConnection(const absl::Status& status,
                                  absl::string_view otherwise_kind) {
  Disconnect();
  health_.Error(WallNow(), status.message());
  LogErrorOnce(internal::LogKindOf(status, otherwise_kind), "",
               status.message());
  // Equal jitter: half the backoff fixed, half random, so a fleet that lost
  // Redis together does not reconnect in lockstep.
  const int64_t half = backoff_ns_ / 2;
  next_connect_ns_ =
      shm::MonotonicNowNs() + half +
      static_cast<int64_t>(random_() % static_cast<uint64_t>(half + 1));
  backoff_ns_ = std::min(2 * backoff_ns_, Ns(options_.backoff_max));
}

void Mirror::Loop::Disconnect() {
  conn_.reset();
  sub_.reset();
  if (holder_) ClearRemoteCaches();
  if (holder_) health_.SetConnected(false);
}

std::optional<internal::Reply> Mirror::Loop::Exec(
    const std::vector<std::string>& argv) {
  if (conn_ == nullptr) return std::nullopt;
  // A holder that stalled (SIGSTOP, swap) past its lease must not write
  // once a standby has taken over. One stopped after this check sends this
  // one command late (docs/mirror.md: each is conditional or idempotent).
  if (!HoldsLease(region_.lease, pid_)) {
    LoseLease();
    return std::nullopt;
  }
  absl::StatusOr<internal::Reply> reply = conn_->Command(argv);
  if (!reply.ok()) {
    FailConnection(reply.status(), "io");
    return std::nullopt;
  }
  if (resolver_ != nullptr && reply->IsError() &&
      absl::StartsWith(reply->str, "READONLY")) {
    // Demoted behind our back (a failover whose announcement we missed).
    FailConnection(absl::FailedPreconditionError(
                       absl::StrCat("Redis at ", master_.Redacted(),
                                    " is a replica now: ", reply->str)),
                   "not_master");
    return std::nullopt;
  }
  if (reply->IsError() && !absl::StartsWith(reply->str, "WRONGTYPE")) {
    const std::string text = absl::StrCat(argv[0], " failed: ", reply->str);
    health_.Error(WallNow(), text);
    LogErrorOnce(absl::StrCat("error_reply:", FirstWord(reply->str)), "", text);
  } else {
    MarkSuccess();
  }
  return *std::move(reply);
}

void Mirror::Loop::MarkSuccess() {
  const int64_t now = WallNow();
  const int64_t mono = shm::MonotonicNowNs();
  health_.Success(now);
  // Renewed in steps so the line panic decisions read is written about
  // once a second at most; the window stays >= 3/4 of health_window_ns_.
  const int64_t step = std::min<int64_t>(1'000'000'000, health_window_ns_ / 4);
  if (mono - healthy_renewed_ns_ >= step) {
    health_.RenewHealthyUntil(mono + health_window_ns_,
                              now + health_window_ns_);
    healthy_renewed_ns_ = mono;
  }
}

}  // namespace vix::persist
