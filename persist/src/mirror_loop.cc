#include "mirror_loop.h"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <mutex>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "vixbreaker/persist/lease.h"
#include "vixbreaker/shm/event_log.h"
#include "vixbreaker/shm/process.h"

namespace vix::persist {
namespace {

int64_t Ns(absl::Duration d) { return absl::ToInt64Nanoseconds(d); }

// Segments that have a Mirror in this process: the lease tells processes
// apart by pid, so two mirrors of one process would both think they hold it.
std::mutex& RegistryMutex() {
  static std::mutex mu;
  return mu;
}
std::set<std::string>& Registry() {
  static std::set<std::string>* segments = new std::set<std::string>();
  return *segments;
}

bool Register(const std::string& segment) {
  std::lock_guard<std::mutex> lock(RegistryMutex());
  return Registry().insert(segment).second;
}

void Unregister(const std::string& segment) {
  std::lock_guard<std::mutex> lock(RegistryMutex());
  Registry().erase(segment);
}

absl::Status RequirePositive(absl::Duration d, absl::string_view name) {
  if (d <= absl::ZeroDuration() || d == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad mirror option ", name, " = ", absl::FormatDuration(d),
                     ": must be a positive, finite duration"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<UnhealthyPolicy> ParseUnhealthyPolicy(absl::string_view text) {
  if (text == "local") return UnhealthyPolicy::kLocal;
  if (text == "strict") return UnhealthyPolicy::kStrict;
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown unhealthy policy \"", text.substr(0, 32),
      "\": expected local (keep deciding from the segment) or strict (fail "
      "safe)"));
}

absl::string_view UnhealthyPolicyName(UnhealthyPolicy policy) {
  return policy == UnhealthyPolicy::kStrict ? "strict" : "local";
}

absl::Status ValidateMirrorOptions(const MirrorOptions& o) {
  absl::StatusOr<RedisEndpoint> endpoint = ParseRedisUrl(o.redis_url);
  if (!endpoint.ok()) return endpoint.status();
  absl::Status s = ValidateKeyPrefix(o.key_prefix);
  const std::pair<absl::Duration, absl::string_view> durations[] = {
      {o.poll_interval, "poll_interval"},
      {o.refresh_interval, "refresh_interval"},
      {o.connect_timeout, "connect_timeout"},
      {o.command_timeout, "command_timeout"},
      {o.lease_period, "lease_period"},
      {o.backoff_initial, "backoff_initial"},
      {o.backoff_max, "backoff_max"},
      {o.scan_interval, "scan_interval"},
      {o.max_clock_ahead, "max_clock_ahead"}};
  for (const auto& [d, name] : durations) {
    if (s.ok()) s = RequirePositive(d, name);
  }
  if (!s.ok()) return s;
  if (o.backoff_initial > o.backoff_max) {
    return absl::InvalidArgumentError(absl::StrCat(
        "bad mirror options: backoff_initial ",
        absl::FormatDuration(o.backoff_initial), " exceeds backoff_max ",
        absl::FormatDuration(o.backoff_max)));
  }
  if (o.scan_interval > o.poll_interval) {
    return absl::InvalidArgumentError(absl::StrCat(
        "bad mirror options: scan_interval ",
        absl::FormatDuration(o.scan_interval), " exceeds poll_interval ",
        absl::FormatDuration(o.poll_interval)));
  }
  const absl::Duration stall =
      2 * (o.connect_timeout + o.command_timeout) + o.command_timeout;
  if (o.lease_period < 2 * stall) {
    return absl::InvalidArgumentError(absl::StrCat(
        "mirror lease period ", absl::FormatDuration(o.lease_period),
        " is too short for connect timeout ",
        absl::FormatDuration(o.connect_timeout), " and command timeout ",
        absl::FormatDuration(o.command_timeout),
        ": a stalled Redis exchange could outlast half the lease; use a lease "
        "of at least ",
        absl::FormatDuration(2 * stall), " or shorter timeouts"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Mirror>> Mirror::Start(shm::Engine& engine,
                                                      MirrorOptions options) {
  absl::Status valid = ValidateMirrorOptions(options);
  if (!valid.ok()) return valid;
  if (!engine.segment_status().ok() || engine.episodes() == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot start the Redis mirror: the engine has no writable segment (",
        engine.segment_status().message(), ")"));
  }
  const std::string& segment = engine.segment()->name();
  if (!Register(segment)) {
    return absl::AlreadyExistsError(absl::StrCat(
        "a Redis mirror for segment ", segment,
        " already runs in this process; start one per segment per process"));
  }
  RedisEndpoint endpoint = *ParseRedisUrl(options.redis_url);
  std::unique_ptr<Mirror> mirror(new Mirror());
  mirror->loop_ = std::make_unique<Loop>(
      engine, std::move(options), std::move(endpoint), &mirror->holds_lease_);
  mirror->loop_->Start();
  return mirror;
}

Mirror::~Mirror() {
  if (loop_ != nullptr) loop_->Stop();
}

const RedisEndpoint& Mirror::endpoint() const { return loop_->endpoint(); }

// ---- Loop: construction and the thread ----------------------------------

Mirror::Loop::Loop(shm::Engine& engine, MirrorOptions options,
                   RedisEndpoint endpoint, std::atomic<bool>* holds_lease)
    : region_(*engine.mirror_region()),
      episodes_(*engine.episodes()),
      table_(*engine.scope_table()),
      segment_name_(engine.segment()->name()),
      options_(std::move(options)),
      log_(engine.LogWriterFor(options_.log_fd)),
      endpoint_(std::move(endpoint)),
      holds_lease_(holds_lease),
      health_(region_.hot, region_.health),
      pid_(getpid()),
      start_ticks_(shm::SelfStartTicks()),
      random_(std::random_device{}()),
      poll_ns_(Ns(options_.poll_interval)),
      refresh_ns_(Ns(options_.refresh_interval)),
      lease_ns_(Ns(options_.lease_period)),
      scan_ns_(Ns(options_.scan_interval)),
      ahead_ns_(Ns(options_.max_clock_ahead)),
      health_window_ns_(2 * Ns(options_.poll_interval) +
                        Ns(options_.command_timeout)),
      run_id_check_ns_(10 * Ns(options_.poll_interval)),
      backoff_ns_(Ns(options_.backoff_initial)) {
  mirror_id_ = absl::StrFormat("%016x", random_());
  if (endpoint_.transport == RedisEndpoint::Transport::kSentinel) {
    resolver_ = std::make_unique<internal::SentinelResolver>(
        endpoint_, options_.connect_timeout, options_.command_timeout,
        absl::StrCat("vixmirror-", pid_), &commands_);
  }
  scopes_.resize(table_.capacity());
  stop_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
}

Mirror::Loop::~Loop() {
  Stop();
  if (stop_fd_ >= 0) close(stop_fd_);
  Unregister(segment_name_);
}

void Mirror::Loop::Start() { thread_ = std::thread(&Loop::Run, this); }

void Mirror::Loop::Stop() {
  if (!thread_.joinable()) return;
  stop_.store(true, std::memory_order_relaxed);
  const uint64_t one = 1;
  ssize_t ignored = write(stop_fd_, &one, sizeof(one));
  (void)ignored;
  thread_.join();
}

void Mirror::Loop::Run() {
  // hiredis writes with write(2); a vanished peer must not kill the
  // process with SIGPIPE (see DiscardPendingSigpipe).
  sigset_t pipe_set;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, nullptr);
  Log(Line("MIRROR_STARTED")
          .Str("redis", endpoint_.Redacted())
          .Str("policy", UnhealthyPolicyName(options_.policy))
          .Str("key_prefix", options_.key_prefix));
  while (!stop_.load(std::memory_order_relaxed)) {
    Iterate(shm::MonotonicNowNs());
    FlushCommandCount();
    WaitForWork();
  }
  switches_.reset();
  if (holder_) {
    Disconnect();
    ClearRemoteCaches();
    health_.Unconfigure();
    ReleaseLease(region_.lease, pid_);
    holder_ = false;
    holds_lease_->store(false, std::memory_order_relaxed);
    Log(Line("MIRROR_LEASE_RELEASED"));
  }
}

void Mirror::Loop::Iterate(int64_t now) {
  StepLease(now);
  if (!holder_) return;
  DiscoverScopes();
  WatchSwitches(now);
  if (!connected()) {
    if (now < next_connect_ns_) return;
    Connect(now);
    if (!connected()) return;
  }
  DrainSubscription();
  for (ScopeSync& s : scopes_) {
    if (!connected() || !HoldsLease(region_.lease, pid_)) return;
    if (s.known) ReconcileLocal(s, now);
  }
  if (!connected()) return;
  Poll(now);
  for (ScopeSync& s : scopes_) {
    if (!connected()) return;
    if (s.known) RefreshExpiry(s, now);
  }
  if (connected() && now >= next_run_id_check_ns_) CheckRunId(now);
}

void Mirror::Loop::WaitForWork() {
  pollfd fds[3] = {{stop_fd_, POLLIN, 0},
                   {sub_ != nullptr ? sub_->fd() : -1, POLLIN, 0},
                   {switches_ != nullptr ? switches_->fd() : -1, POLLIN, 0}};
  const int timeout_ms =
      static_cast<int>(std::max<int64_t>(1, scan_ns_ / 1'000'000));
  if (poll(fds, 3, timeout_ms) <= 0) return;
  constexpr short kReadable = POLLIN | POLLHUP | POLLERR;
  if (sub_ != nullptr && (fds[1].revents & kReadable)) {
    absl::Status read = sub_->ReadSocket();
    if (!read.ok()) FailConnection(read, "io");
  }
  if (switches_ != nullptr && (fds[2].revents & kReadable)) {
    absl::Status read = switches_->ReadSocket();
    if (!read.ok()) DropSwitches(read);
  }
}

// ---- the lease ------------------------------------------------------------

void Mirror::Loop::StepLease(int64_t now) {
  if (holder_) {
    if (!HoldsLease(region_.lease, pid_)) {
      LoseLease();
    } else if (now - last_renew_ns_ >= lease_ns_ / 10) {
      if (!RenewLease(region_.lease, pid_, now, lease_ns_)) {
        LoseLease();
      } else {
        last_renew_ns_ = now;
        ShowLeaseExpiry(region_.lease, WallNow() + lease_ns_);
      }
    }
    return;
  }
  LeaseAttempt attempt =
      TryAcquireLease(region_.lease, pid_, start_ticks_, now, lease_ns_);
  if (!attempt.acquired) return;
  ShowLeaseExpiry(region_.lease, WallNow() + lease_ns_);
  holder_ = true;
  holds_lease_->store(true, std::memory_order_relaxed);
  last_renew_ns_ = now;
  health_.Configure(options_.policy == UnhealthyPolicy::kStrict);
  healthy_renewed_ns_ = 0;
  ResetScopesForNewHolder();
  next_connect_ns_ = now;
  backoff_ns_ = Ns(options_.backoff_initial);
  Log(Line("MIRROR_LEASE_ACQUIRED")
          .Int("previous_pid", attempt.previous_pid)
          .Str("why", attempt.why)
          .Str("policy", UnhealthyPolicyName(options_.policy))
          .Str("redis", endpoint_.Redacted()));
}

void Mirror::Loop::LoseLease() {
  // Someone else holds it now: drop everything without touching health.
  conn_.reset();
  sub_.reset();
  switches_.reset();
  ClearRemoteCaches();
  holder_ = false;
  holds_lease_->store(false, std::memory_order_relaxed);
  Log(Line("MIRROR_LEASE_LOST")
          .Int("holder_pid",
               region_.lease.holder_pid.load(std::memory_order_relaxed)));
}

void Mirror::Loop::ResetScopesForNewHolder() {
  for (ScopeSync& s : scopes_) s = ScopeSync{};
}

void Mirror::Loop::FlushCommandCount() {
  if (holder_) health_.AddCommands(commands_ - commands_flushed_);
  commands_flushed_ = commands_;
}

int64_t Mirror::Loop::WallNow() const {
  return options_.wall_clock_ns != nullptr ? options_.wall_clock_ns()
                                           : shm::RealtimeNowNs();
}

// ---- logging --------------------------------------------------------------

JsonObject Mirror::Loop::Line(absl::string_view event) const {
  JsonObject line = LogLine(WallNow(), event, segment_name_);
  line.Int("pid", pid_);
  return line;
}

void Mirror::Loop::Log(const JsonObject& line) { log_.Write(line.Done()); }

void Mirror::Loop::LogErrorOnce(absl::string_view kind, absl::string_view key,
                                absl::string_view text) {
  if (!logged_errors_.insert(absl::StrCat(kind, "|", key)).second) return;
  JsonObject line = Line("REDIS_ERROR_PANIC_TS");
  line.Str("kind", kind);
  if (!key.empty()) line.Str("key", key);
  Log(line.Str("error", text).Str("redis", endpoint_.Redacted()));
}

void Mirror::Loop::ClearLoggedErrors(bool connection_kinds,
                                     absl::string_view key) {
  const std::string suffix = absl::StrCat("|", key);
  for (auto it = logged_errors_.begin(); it != logged_errors_.end();) {
    const bool keyless = absl::EndsWith(*it, "|");
    const bool match =
        connection_kinds ? keyless : (!keyless && absl::EndsWith(*it, suffix));
    it = match ? logged_errors_.erase(it) : std::next(it);
  }
}

}  // namespace vix::persist
