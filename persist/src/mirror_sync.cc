// The per-scope protocol of SPEC 5 (see mirror.h for the summary).
#include <chrono>
#include <cstdlib>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "mirror_loop.h"
#include "vixbreaker/shm/event_log.h"
#include "vixbreaker/shm/scope_name.h"

namespace vix::persist {
namespace {

using internal::Reply;
using shm::EpisodeWord;

constexpr auto kRelaxed = std::memory_order_relaxed;
constexpr auto kAcquire = std::memory_order_acquire;

// Deletes the key only if it still holds (within 10 µs: texts of one value
// written with different precision) the start this host mirrors, so a newer
// episode from another host survives. pcall: a foreign type is left alone.
constexpr char kCompareAndDelete[] =
    "local v = redis.pcall('GET', KEYS[1])\n"
    "if type(v) == 'string' then\n"
    "  local n = tonumber(v)\n"
    "  if n and math.abs(n - tonumber(ARGV[1])) < 0.00001 then\n"
    "    return redis.call('DEL', KEYS[1])\n"
    "  end\n"
    "end\n"
    "return 0\n";

std::string Seconds(int64_t ns) { return FormatUnixSeconds(ns); }

}  // namespace

void Mirror::Loop::DiscoverScopes() {
  std::vector<std::string> subscribe = {"SUBSCRIBE"};
  for (uint32_t i = 0; i < table_.capacity(); ++i) {
    ScopeSync& s = scopes_[i];
    const shm::ScopeHandle h = table_.At(i);
    const shm::Scope& sc = *h.scope;
    const bool used =
        shm::ScopeStateWord::State(sc.state.load(kAcquire)) == shm::kScopeUsed;
    if (s.known && (!used || s.generation != h.generation)) {
      s = ScopeSync{};  // removed (and perhaps reused under another name)
    }
    if (s.known || !used) continue;
    s.known = true;
    s.index = i;
    s.generation = h.generation;
    s.name = shm::ReadScopeName(sc);
    s.key = KeyForScope(options_.key_prefix, s.name);
    s.channel = ChannelForKey(s.key);
    // A previous holder's knowledge, so its episode can still be ended. Its
    // remote cache is not this holder's to vouch for: a holder that died
    // could not clear it (SPEC 3); this holder's first poll fills it again.
    s.published_ns = sc.mirror_published_ns.load(kRelaxed);
    if (sc.remote_start_ns.load(kRelaxed) != 0) episodes_.ClearRemoteCache(h);
    subscribe.push_back(s.channel);
  }
  if (sub_ != nullptr && subscribe.size() > 1) {
    absl::Status sent = sub_->Send(subscribe);
    if (!sent.ok()) FailConnection(sent, "io");
  }
}

void Mirror::Loop::DrainSubscription() {
  const std::string own_suffix = absl::StrCat(" ", mirror_id_);
  while (sub_ != nullptr) {
    absl::StatusOr<std::optional<Reply>> next = sub_->NextBufferedReply();
    if (!next.ok()) return FailConnection(next.status(), "protocol");
    if (!next->has_value()) return;
    const Reply& r = **next;
    if (r.type != Reply::Type::kArray || r.elements.size() != 3 ||
        r.elements[0].str != "message" ||
        absl::EndsWith(r.elements[2].str, own_suffix)) {
      continue;  // subscribe confirmations and our own announcements
    }
    for (ScopeSync& s : scopes_) {
      if (s.known && s.channel == r.elements[1].str) s.poll_now = true;
    }
  }
}

bool Mirror::Loop::Settled(const ScopeSync& s) const {
  const shm::Scope& sc = scope(s);
  return sc.episode.load(kAcquire) == s.synced_word &&
         sc.episodes_started.load(kRelaxed) == s.synced_started;
}

void Mirror::Loop::MarkSynced(ScopeSync& s, int64_t word, uint64_t started,
                              int64_t published_ns) {
  s.synced_word = word;
  s.synced_started = started;
  s.published_ns = published_ns;
  episodes_.SetPublished(handle(s), published_ns);
}

int64_t Mirror::Loop::CacheDeadline() const {
  // Valid until the next poll would have renewed it, with a round trip.
  return shm::MonotonicNowNs() + poll_ns_ +
         absl::ToInt64Nanoseconds(options_.command_timeout);
}

void Mirror::Loop::CacheRemote(ScopeSync& s, int64_t start_ns) {
  if (start_ns == 0) {
    if (s.cached_remote_ns != 0 || scope(s).remote_start_ns.load(kRelaxed)) {
      episodes_.ClearRemoteCache(handle(s));
    }
  } else {
    episodes_.CacheRemote(handle(s), start_ns, CacheDeadline());
  }
  s.cached_remote_ns = start_ns;
  s.seen_remote_ns = start_ns;
  s.seen_generation = generation_;
}

bool Mirror::Loop::SeenBeforeThisConnection(const ScopeSync& s,
                                            int64_t start_ns) const {
  return s.seen_remote_ns != 0 &&
         EpisodeWord::Normalize(s.seen_remote_ns) == start_ns &&
         s.seen_generation != generation_;
}

void Mirror::Loop::ClearRemoteCaches() {
  for (ScopeSync& s : scopes_) {
    if (!s.known) continue;
    episodes_.ClearRemoteCache(handle(s));
    s.cached_remote_ns = 0;
  }
}

void Mirror::Loop::EndRemoteOnRequest(ScopeSync& s) {
  const int64_t start = episodes_.TakeRemoteEndRequest(handle(s));
  if (start == 0) return;
  // A calm observation ended the remote episode this host had cached: end
  // it in Redis as the predecessor's DELETE on calm did, but only if the
  // key still holds that start.
  const std::string text = Seconds(start);
  std::optional<Reply> r = Exec({"EVAL", kCompareAndDelete, "1", s.key, text});
  if (r.has_value() && r->type == Reply::Type::kInteger && r->integer == 1) {
    Announce(s, "del", text);
  }
}

// ---- local changes -> Redis -------------------------------------------------

void Mirror::Loop::ReconcileLocal(ScopeSync& s, int64_t now) {
  EndRemoteOnRequest(s);
  const shm::Scope& sc = scope(s);
  const int64_t word = sc.episode.load(kAcquire);
  const uint64_t started = sc.episodes_started.load(kRelaxed);
  if (word == s.synced_word && started == s.synced_started) return;
  if (now < s.retry_after_ns) return;
  // The episode Redis holds for us is over here, unless a forced start
  // replaces it (that overwrites the key instead).
  const bool forced = word != 0 && EpisodeWord::Forced(word);
  if (s.published_ns != 0 && !forced &&
      (word == 0 || EpisodeWord::StartNs(word) != s.published_ns)) {
    if (!EndInRedis(s)) return;
  }
  if (word == 0) {
    MarkSynced(s, 0, started, 0);
    return;
  }
  PublishLocal(s, word, started, now, /*republish=*/false);
}

bool Mirror::Loop::EndInRedis(ScopeSync& s) {
  const std::string text = Seconds(s.published_ns);
  std::optional<Reply> r = Exec({"EVAL", kCompareAndDelete, "1", s.key, text});
  if (!r.has_value()) return false;  // retried after the reconnect
  if (r->type == Reply::Type::kInteger && r->integer == 1) {
    Announce(s, "del", text);
  }
  MarkSynced(s, s.synced_word, s.synced_started, 0);
  s.confirmed_generation = 0;
  return connected();
}

void Mirror::Loop::PublishLocal(ScopeSync& s, int64_t word, uint64_t started,
                                int64_t now, bool republish) {
  const shm::Scope& sc = scope(s);
  const int64_t start = EpisodeWord::StartNs(word);
  const bool forced = EpisodeWord::Forced(word);
  const std::string text = Seconds(start);
  // Adopted from the cache: only confirm it, never write it back (it may
  // have been deleted since, SPEC 3). But if this holder read it before a
  // reconnect or a new run id, Redis may have lost it (a restart, a
  // promoted replica): then it is the fleet's start and is published again
  // (SET NX, like any local start). A start this holder cannot vouch for
  // (a previous holder's cache) is only confirmed.
  const bool from_cache = EpisodeWord::Unconfirmed(word);
  const bool confirm_only = from_cache && !SeenBeforeThisConnection(s, start);
  // The lag reported is this exchange's round trip: Redis latency, never
  // the age of the episode (SPEC 5).
  const auto sent = std::chrono::steady_clock::now();
  bool wrote = false;
  if (!confirm_only) {
    std::vector<std::string> set = {"SET", s.key, text, "EX",
                                    absl::StrCat(kKeyTtlSeconds)};
    if (!forced) set.push_back("NX");  // an admin's force overwrites
    std::optional<Reply> r = Exec(set);
    if (!r.has_value()) return;
    if (r->IsError()) {
      s.retry_after_ns = now + poll_ns_;
      return;
    }
    wrote = r->type == Reply::Type::kStatus;  // nil: NX found a key
  }
  std::optional<Reply> r = Exec({"GET", s.key});
  if (!r.has_value()) return;
  const KeyRead read = Classify(s, *r);
  if (from_cache && (read.kind == KeyRead::Kind::kInvalid ||
                     (read.kind == KeyRead::Kind::kMissing && confirm_only))) {
    // The cached start was deleted from Redis (or is unreadable): this
    // host's panic goes on with its own start; the next scan publishes it.
    CacheRemote(s, 0);
    episodes_.ReplaceWithOwnStart(handle(s), word);
    return;
  }
  if (read.kind == KeyRead::Kind::kInvalid) {
    // A foreign value: keep the local episode, let polls watch the key.
    MarkSynced(s, word, started, 0);
    s.confirmed_generation = 0;
    return;
  }
  if (read.kind == KeyRead::Kind::kMissing) {
    return;  // deleted between SET and GET: the next scan retries
  }
  int64_t local = word;
  if (from_cache && read.start_ns == start) {
    if (!episodes_.Confirm(handle(s), word)) return;  // changed: rescan
    local = word & ~EpisodeWord::kUnconfirmedBit;
  } else if (read.start_ns != start) {
    if (!AdoptIntoLocal(s, word, started, read.start_ns)) {
      // The local episode changed meanwhile (often: it ended). Remember a
      // key we wrote so the next scan deletes it instead of orphaning it.
      if (wrote) MarkSynced(s, s.synced_word, s.synced_started, read.start_ns);
      return;
    }
    local = EpisodeWord::Make(read.start_ns, forced);
  }
  MarkSynced(s, local, started, read.start_ns);
  s.confirmed_generation = generation_;
  s.last_expire_ns = wrote ? now : 0;
  s.refreshed_panic_ns = wrote ? sc.last_panic_ns.load(kRelaxed) : 0;
  CacheRemote(s, 0);
  if (!wrote) return;
  if (republish || from_cache) {
    Log(Line("PANIC_TIMESTAMP_REPUBLISHED")
            .Str("scope", s.name)
            .Seconds("episode_start", read.start_ns)
            .Str("why", "key_missing"));
  } else {
    health_.SetPublishLag(std::chrono::duration_cast<std::chrono::nanoseconds>(
                              std::chrono::steady_clock::now() - sent)
                              .count());
  }
  Announce(s, "set", text);
}

void Mirror::Loop::Announce(const ScopeSync& s, absl::string_view op,
                            absl::string_view value) {
  if (!options_.announce) return;
  Exec({"PUBLISH", s.channel, absl::StrCat(op, " ", value, " ", mirror_id_)});
}

// ---- Redis -> the segment ---------------------------------------------------

void Mirror::Loop::Poll(int64_t now) {
  const bool periodic = now >= next_poll_ns_;
  if (periodic) next_poll_ns_ = now + poll_ns_;
  std::vector<ScopeSync*> targets;
  for (ScopeSync& s : scopes_) {
    if (!s.known || !(periodic || s.poll_now)) continue;
    s.poll_now = false;
    if (Settled(s)) targets.push_back(&s);  // else ReconcileLocal reads it
  }
  if (targets.empty()) return;
  if (targets.size() == 1) {
    std::optional<Reply> r = Exec({"GET", targets[0]->key});
    if (r.has_value()) HandleRead(*targets[0], *r, now, /*from_get=*/true);
    return;
  }
  std::vector<std::string> mget = {"MGET"};
  for (const ScopeSync* s : targets) mget.push_back(s->key);
  std::optional<Reply> r = Exec(mget);
  if (!r.has_value() || r->IsError()) return;
  if (r->type != Reply::Type::kArray || r->elements.size() != targets.size()) {
    LogErrorOnce("unexpected_reply", "",
                 "MGET did not return one value per key");
    return;
  }
  for (size_t i = 0; i < targets.size() && connected(); ++i) {
    HandleRead(*targets[i], r->elements[i], now, /*from_get=*/false);
  }
}

KeyRead Mirror::Loop::Classify(ScopeSync& s, const Reply& reply) {
  KeyRead read;
  if (reply.IsNil()) {
    ClearLoggedErrors(/*connection_kinds=*/false, s.key);
    read.kind = KeyRead::Kind::kMissing;
    return read;
  }
  if (reply.IsError()) {  // other error replies were reported by Exec
    if (absl::StartsWith(reply.str, "WRONGTYPE")) {
      health_.CountInvalidValue();
      LogErrorOnce("wrong_type", s.key,
                   absl::StrCat("the key does not hold a string: ", reply.str));
    }
    return read;
  }
  if (reply.type != Reply::Type::kString) {
    health_.CountInvalidValue();
    LogErrorOnce("unexpected_reply", s.key, "GET returned a non-string reply");
    return read;
  }
  // How far ahead a start may be is judged against the fleet's clock.
  const ParsedValue value = ParseRedisValue(reply.str, WallNow(), ahead_ns_);
  if (value.problem != ValueProblem::kNone) {
    health_.CountInvalidValue();
    LogErrorOnce(ValueProblemName(value.problem), s.key, value.error);
    return read;
  }
  ClearLoggedErrors(/*connection_kinds=*/false, s.key);
  read.kind = KeyRead::Kind::kValid;
  read.start_ns = EpisodeWord::Normalize(value.start_ns);
  return read;
}

void Mirror::Loop::HandleRead(ScopeSync& s, const Reply& reply, int64_t now,
                              bool from_get) {
  const int64_t word = scope(s).episode.load(kAcquire);
  if (word != s.synced_word) return;  // changed meanwhile: reconcile first
  const Reply* r = &reply;
  std::optional<Reply> confirm;
  if (!from_get && reply.IsNil() && word != 0) {
    confirm = Exec({"GET", s.key});  // MGET shows a foreign type as nil
    if (!confirm.has_value()) return;
    r = &*confirm;
  }
  const KeyRead read = Classify(s, *r);
  if (read.kind == KeyRead::Kind::kInvalid) {
    s.confirmed_generation = 0;  // unknown: a later absence republishes
    return;
  }
  if (word == 0) {
    CacheRemote(s, read.kind == KeyRead::Kind::kValid ? read.start_ns : 0);
    return;
  }
  if (read.kind == KeyRead::Kind::kValid) {
    if (read.start_ns != EpisodeWord::StartNs(word)) {
      if (!AdoptIntoLocal(s, word, s.synced_started, read.start_ns)) {
        return;
      }
    } else if (s.published_ns != read.start_ns) {
      MarkSynced(s, word, s.synced_started, read.start_ns);
    }
    s.confirmed_generation = generation_;
    return;
  }
  // The key is gone. Seen on this very connection and run: the episode
  // ended elsewhere (or its key expired). Otherwise Redis may have lost it.
  if (s.published_ns != 0 && s.confirmed_generation == generation_) {
    EndLocalFromRemote(s, word);
  } else {
    PublishLocal(s, word, s.synced_started, now,
                 /*republish=*/s.published_ns != 0);
  }
}

bool Mirror::Loop::AdoptIntoLocal(ScopeSync& s, int64_t word, uint64_t started,
                                  int64_t start_ns) {
  if (!episodes_.AdoptRedisStart(handle(s), word, start_ns)) {
    return false;  // the local episode changed: the next scan reconciles
  }
  MarkSynced(s, EpisodeWord::Make(start_ns, EpisodeWord::Forced(word)), started,
             start_ns);
  return true;
}

void Mirror::Loop::EndLocalFromRemote(ScopeSync& s, int64_t word) {
  if (!episodes_.EndFromRemote(handle(s), word)) return;
  MarkSynced(s, 0, scope(s).episodes_started.load(kRelaxed), 0);
  s.confirmed_generation = 0;
  CacheRemote(s, 0);
}

void Mirror::Loop::RefreshExpiry(ScopeSync& s, int64_t now) {
  if (s.synced_word == 0 || s.published_ns == 0 ||
      s.confirmed_generation != generation_ || !Settled(s) ||
      now - s.last_expire_ns < refresh_ns_) {
    return;
  }
  const int64_t last_panic = scope(s).last_panic_ns.load(kRelaxed);
  if (last_panic <= s.refreshed_panic_ns) return;  // panic no longer seen
  std::optional<Reply> r =
      Exec({"EXPIRE", s.key, absl::StrCat(kKeyTtlSeconds)});
  if (!r.has_value()) return;
  s.last_expire_ns = now;
  s.refreshed_panic_ns = last_panic;
  if (r->type == Reply::Type::kInteger && r->integer == 0) s.poll_now = true;
}

}  // namespace vix::persist
