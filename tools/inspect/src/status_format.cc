#include "vixbreaker/inspect/status_format.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "vixbreaker/core/json.h"
#include "vixbreaker/inspect/text_table.h"
#include "vixbreaker/shm/event_log.h"
#include "vixbreaker/shm/segment.h"

namespace vix::inspect {
namespace {

constexpr int64_t kNsPerSecond = 1'000'000'000;

std::string YesNo(bool value) { return value ? "yes" : "no"; }

std::string Ago(int64_t now_ns, int64_t at_ns) {
  if (at_ns == 0) return "never";
  if (at_ns > now_ns) return absl::StrCat("in ", DurationText(at_ns - now_ns));
  return absl::StrCat(DurationText(now_ns - at_ns), " ago");
}

std::string LagText(int64_t ns) {
  return absl::StrFormat("%.3fms", static_cast<double>(ns) / 1e6);
}

// ---- table sections ---------------------------------------------------

std::string HeaderSection(const Snapshot& s) {
  const HeaderView& h = s.header;
  return absl::StrFormat(
      "vixbreaker segment %s (%s)\n"
      "  layout %d.%d, %d bytes, generation %d\n"
      "  created %s by pid %d (%s)\n"
      "  now %s, dead-man's switch %s\n",
      h.segment, shm::SegmentPath(h.segment), h.layout_major, h.layout_minor,
      h.size_bytes, h.generation, TimeText(h.created_ns), h.creator_pid,
      h.creator_alive ? "running" : "exited", TimeText(s.now_ns),
      DurationText(s.deadman_ns));
}

std::string TierCell(const ScopeView& scope, const StakesView& stakes) {
  if (!scope.running()) return "0";
  return absl::StrCat(stakes.tier, " (", stakes.ttl_seconds, "s)");
}

std::string WriterCell(const ScopeView& scope) {
  if (scope.episode == EpisodeState::kForced && scope.forced_by_pid != 0) {
    return absl::StrCat(scope.forced_by_pid, " (admin)");
  }
  return scope.first_writer_pid != 0 ? absl::StrCat(scope.first_writer_pid)
                                     : "-";
}

std::vector<Cell> ScopeRow(const Snapshot& s, const ScopeView& scope,
                           const Highlights& hl) {
  const bool has_word = scope.episode != EpisodeState::kNone;
  std::string age = "-";
  if (scope.running()) {
    age = scope.future_start ? "0s (future start)" : DurationText(scope.age_ns);
  }
  std::vector<Cell> row = {scope.name,
                           Cell(std::string(EpisodeStateName(scope.episode)),
                                hl.StyleFor(EpisodeKey(scope.name))),
                           has_word ? TimeText(scope.start_ns) : "-", age};
  for (const StakesView& stakes : scope.stakes) {
    row.emplace_back(TierCell(scope, stakes),
                     hl.StyleFor(TierKey(scope.name, stakes.stakes)));
  }
  std::string deadline = "-";
  if (has_word) {
    deadline = scope.episode == EpisodeState::kExpired
                   ? "passed"
                   : DurationText(scope.deadman_deadline_ns - s.now_ns);
  }
  row.insert(row.end(), {has_word ? WriterCell(scope) : "-",
                         has_word ? Ago(s.now_ns, scope.last_refresh_ns) : "-",
                         deadline, absl::StrCat(scope.episodes_started),
                         absl::StrCat(scope.episodes_ended)});
  return row;
}

std::string ScopesSection(const Snapshot& s, const Highlights& hl) {
  TextTable table;
  table.AddRow({"SCOPE", "EPISODE", "START", "AGE", "HIGH", "MEDIUM", "LOW",
                "FIRST WRITER", "LAST REFRESH", "DEADMAN IN", "STARTED",
                "ENDED"});
  for (const ScopeView& scope : s.scopes) table.AddRow(ScopeRow(s, scope, hl));
  return absl::StrCat(
      "\nSCOPES  tier (TTL) by stakes; tier 1 PANIC_FULL, 2 PANIC_PARTIAL, "
      "3 DEGRADED, 4 NEW_NORMAL\n",
      table.Render("  "));
}

std::string MirrorSection(const Snapshot& s, const Highlights& hl) {
  const MirrorView& m = s.mirror;
  if (!m.configured) {
    return "\nMIRROR  not configured: this host decides on the segment "
           "alone\n";
  }
  std::string verdict =
      m.healthy ? "healthy" : absl::StrCat("UNHEALTHY: ", m.unhealthy_reason);
  absl::string_view style = hl.StyleFor(std::string(kMirrorKey));
  if (!style.empty()) verdict = absl::StrCat(style, verdict, kStyleReset);
  std::string policy = m.strict
                           ? absl::StrCat("strict (healthy until ",
                                          TimeText(m.healthy_until_ns), ")")
                           : "local";
  std::string holder =
      m.lease_holder_pid == 0
          ? "none"
          : absl::StrCat("pid ", m.lease_holder_pid, " (",
                         m.lease_holder_alive ? "running" : "not running", ")");
  std::string error_text = m.error_text_unstable
                               ? "(being rewritten; try again)"
                               : absl::StrCat("\"", m.last_error_text, "\"");
  return absl::StrCat(
      "\nMIRROR  ", verdict, "\n",
      absl::StrFormat("  lease  holder %s, expires %s, takeovers %d\n", holder,
                      m.lease_expiry_ns == 0 ? "never set"
                                             : Ago(s.now_ns, m.lease_expiry_ns),
                      m.lease_takeovers),
      absl::StrFormat("  redis  connected %s, policy %s, last success %s, "
                      "reconnects %d\n",
                      YesNo(m.connected), policy,
                      Ago(s.now_ns, m.last_success_ns), m.reconnects),
      absl::StrFormat("         publish lag %s, commands %d, errors %d, "
                      "invalid values %d\n",
                      LagText(m.publish_lag_ns), m.commands_sent,
                      m.redis_errors, m.invalid_values),
      m.last_error_ns == 0
          ? std::string("  error  none\n")
          : absl::StrFormat("  error  last %s: %s\n",
                            Ago(s.now_ns, m.last_error_ns), error_text));
}

void AppendCounterCells(const Counters& c, std::vector<Cell>& row) {
  for (uint64_t d : c.decisions) row.emplace_back(absl::StrCat(d));
  row.emplace_back(absl::StrCat(c.failsafes));
  row.emplace_back(absl::StrCat(c.errors));
  row.emplace_back(absl::StrCat(c.anomalies));
}

std::string ProcessesSection(const Snapshot& s, const Highlights& hl) {
  TextTable table;
  std::vector<Cell> header = {"SLOT", "PID", "TID", "ALIVE", "HEARTBEAT"};
  for (int m = 0; m < kModeCount; ++m) {
    header.emplace_back(std::string(ModeName(static_cast<Mode>(m))));
  }
  header.insert(header.end(), {"FAILSAFES", "ERRORS", "ANOMALIES"});
  table.AddRow(std::move(header));
  for (const ProcessView& p : s.processes) {
    std::vector<Cell> row = {
        absl::StrCat(p.slot), absl::StrCat(p.pid), absl::StrCat(p.tid),
        Cell(YesNo(p.alive), hl.StyleFor(ProcessKey(p.slot))),
        Ago(s.now_ns, p.heartbeat_ns)};
    AppendCounterCells(p.counters, row);
    table.AddRow(std::move(row));
  }
  std::vector<Cell> retired = {"retired", "", "", "", ""};
  AppendCounterCells(s.totals.retired, retired);
  table.AddRow(std::move(retired));
  std::vector<Cell> total = {"total", "", "", "", ""};
  AppendCounterCells(s.totals.all, total);
  table.AddRow(std::move(total));
  return absl::StrFormat(
      "\nPROCESSES  one slot per deciding thread; %d in use, %d alive; %d "
      "log events dropped\n%s",
      s.totals.slots_in_use, s.totals.slots_alive, s.totals.log_events_dropped,
      table.Render("  "));
}

// ---- JSON ---------------------------------------------------------------

std::string CountersJson(const Counters& c) {
  JsonObject decisions;
  for (int m = 0; m < kModeCount; ++m) {
    decisions.UInt(ModeName(static_cast<Mode>(m)), c.decisions[m]);
  }
  return JsonObject()
      .Raw("decisions", decisions.Done())
      .UInt("failsafes", c.failsafes)
      .UInt("errors", c.errors)
      .UInt("anomalies", c.anomalies)
      .Done();
}

std::string HeaderJson(const HeaderView& h) {
  return JsonObject()
      .Str("name", h.segment)
      .Str("path", shm::SegmentPath(h.segment))
      .Str("layout_version", absl::StrCat(h.layout_major, ".", h.layout_minor))
      .UInt("size_bytes", h.size_bytes)
      .UnixSeconds("created_at", h.created_ns)
      .Int("creator_pid", h.creator_pid)
      .Bool("creator_alive", h.creator_alive)
      .Str("generation", absl::StrCat(h.generation))
      .Done();
}

std::string ScopeJson(const ScopeView& scope) {
  const bool has_word = scope.episode != EpisodeState::kNone;
  JsonObject stakes;
  for (const StakesView& s : scope.stakes) {
    JsonObject one;
    one.Int("tier", s.tier).Str("mode", ModeName(s.mode));
    if (scope.running()) {
      one.Int("ttl", s.ttl_seconds);
    } else {
      one.Null("ttl");  // no episode: the caller's base TTL
    }
    stakes.Raw(StakesName(s.stakes), one.Done());
  }
  JsonObject json;
  json.Int("index", scope.index)
      .Str("name", scope.name)
      .Str("episode", EpisodeStateName(scope.episode))
      .Bool("active", scope.running())
      .Bool("forced", scope.episode == EpisodeState::kForced)
      .UnixSeconds("start", has_word ? scope.start_ns : 0);
  if (scope.running()) {
    json.Seconds("age_s", scope.age_ns);
  } else {
    json.Null("age_s");
  }
  return json.Bool("future_start", scope.future_start)
      .Raw("stakes", stakes.Done())
      .IdOrNull("first_writer_pid", scope.first_writer_pid)
      .IdOrNull("forced_by_pid", scope.forced_by_pid)
      .UnixSeconds("last_refresh", has_word ? scope.last_refresh_ns : 0)
      .UnixSeconds("deadman_deadline", has_word ? scope.deadman_deadline_ns : 0)
      .UnixSeconds("calm_since", scope.calm_since_ns)
      .UnixSeconds("remote_start", scope.remote_start_ns)
      .UnixSeconds("last_transition", scope.last_transition_ns)
      .UInt("episodes_started", scope.episodes_started)
      .UInt("episodes_ended", scope.episodes_ended)
      .Done();
}

std::string MirrorJson(const MirrorView& m) {
  JsonObject lease;
  lease.IdOrNull("holder_pid", m.lease_holder_pid)
      .Bool("holder_alive", m.lease_holder_alive)
      .UnixSeconds("expiry", m.lease_expiry_ns)
      .Bool("expired", m.lease_expired)
      .UInt("takeovers", m.lease_takeovers);
  JsonObject redis;
  redis.Bool("connected", m.connected)
      .UnixSeconds("last_success", m.last_success_ns)
      .UnixSeconds("last_error", m.last_error_ns);
  if (m.error_text_unstable) {
    redis.Null("last_error_text");
  } else {
    redis.Str("last_error_text", m.last_error_text);
  }
  redis.UInt("reconnects", m.reconnects)
      .Seconds("publish_lag_s", m.publish_lag_ns)
      .UInt("commands_sent", m.commands_sent)
      .UInt("errors", m.redis_errors)
      .UInt("invalid_values", m.invalid_values);
  JsonObject json;
  json.Bool("configured", m.configured).Bool("healthy", m.healthy);
  if (m.healthy) {
    json.Null("unhealthy_reason");
  } else {
    json.Str("unhealthy_reason", m.unhealthy_reason);
  }
  return json.Str("policy", m.strict ? "strict" : "local")
      .UnixSeconds("healthy_until", m.healthy_until_ns)
      .Raw("lease", lease.Done())
      .Raw("redis", redis.Done())
      .Done();
}

std::string ProcessJson(const Snapshot& s, const ProcessView& p) {
  return JsonObject()
      .UInt("slot", p.slot)
      .Int("pid", p.pid)
      .Int("tid", p.tid)
      .Bool("alive", p.alive)
      .UnixSeconds("attached_at", p.attached_ns)
      .UnixSeconds("heartbeat", p.heartbeat_ns)
      .Seconds("heartbeat_age_s", s.now_ns - p.heartbeat_ns)
      .Raw("counters", CountersJson(p.counters))
      .Done();
}

std::string TotalsJson(const Totals& t) {
  return JsonObject()
      .UInt("slots_in_use", t.slots_in_use)
      .UInt("slots_alive", t.slots_alive)
      .UInt("episodes_started", t.episodes_started)
      .UInt("episodes_ended", t.episodes_ended)
      .UInt("log_events_dropped", t.log_events_dropped)
      .Raw("retired", CountersJson(t.retired))
      .Raw("all", CountersJson(t.all))
      .Done();
}

}  // namespace

std::string MirrorSummary(const Snapshot& s) {
  const MirrorView& m = s.mirror;
  if (!m.configured) return "MIRROR  not configured (segment alone)";
  std::string verdict =
      m.healthy ? "healthy" : absl::StrCat("UNHEALTHY: ", m.unhealthy_reason);
  return absl::StrFormat("MIRROR  %s; lease pid %d, lag %s, errors %d", verdict,
                         m.lease_holder_pid, LagText(m.publish_lag_ns),
                         m.redis_errors);
}

std::string ProcessesSummary(const Snapshot& s) {
  const Counters& all = s.totals.all;
  return absl::StrFormat(
      "PROCESSES %d alive of %d slots; %d decisions, %d failsafes",
      s.totals.slots_alive, s.totals.slots_in_use, all.total_decisions(),
      all.failsafes);
}

std::string FormatScopeJson(const ScopeView& scope) { return ScopeJson(scope); }

absl::string_view Highlights::StyleFor(const std::string& key) const {
  auto it = worse_by_key.find(key);
  if (it == worse_by_key.end()) return {};
  return it->second ? kStyleWorse : kStyleBetter;
}

std::string TierKey(absl::string_view scope, Stakes stakes) {
  return absl::StrCat("tier/", scope, "/", StakesName(stakes));
}
std::string EpisodeKey(absl::string_view scope) {
  return absl::StrCat("episode/", scope);
}
std::string ProcessKey(uint32_t slot) { return absl::StrCat("slot/", slot); }

std::string DurationText(int64_t ns) {
  if (ns < 0) {
    return absl::StrCat("-", DurationText(ns == INT64_MIN ? INT64_MAX : -ns));
  }
  const int64_t s = ns / kNsPerSecond;
  if (s < 60) return absl::StrFormat("%ds", s);
  if (s < 3600) return absl::StrFormat("%dm%02ds", s / 60, s % 60);
  if (s < 86400)
    return absl::StrFormat("%dh%02dm%02ds", s / 3600, s / 60 % 60, s % 60);
  return absl::StrFormat("%dd%02dh%02dm", s / 86400, s / 3600 % 24,
                         s / 60 % 60);
}

std::string TimeText(int64_t unix_ns) {
  if (unix_ns == 0) return "-";
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixNanos(unix_ns),
                          absl::UTCTimeZone());
}

std::string FormatStatusTable(const Snapshot& snapshot,
                              const Highlights* highlights) {
  static const Highlights kNone;
  const Highlights& hl = highlights != nullptr ? *highlights : kNone;
  const bool healthy = HealthOf(snapshot) == Health::kHealthy;
  return absl::StrCat(
      HeaderSection(snapshot), ScopesSection(snapshot, hl),
      MirrorSection(snapshot, hl), FormatBreakerSection(snapshot),
      ProcessesSection(snapshot, hl), "\nHEALTH  ",
      healthy ? "healthy" : "mirror configured but unhealthy (exit 5)", "\n");
}

std::string FormatStatusJson(const Snapshot& snapshot) {
  std::vector<std::string> scopes, processes;
  for (const ScopeView& scope : snapshot.scopes) {
    scopes.push_back(ScopeJson(scope));
  }
  for (const ProcessView& p : snapshot.processes) {
    processes.push_back(ProcessJson(snapshot, p));
  }
  const bool healthy = HealthOf(snapshot) == Health::kHealthy;
  return JsonObject()
      .Int("schema_version", kStatusSchemaVersion)
      .Seconds("now", snapshot.now_ns)
      .Str("health", healthy ? "healthy" : "mirror_unhealthy")
      .Raw("segment", HeaderJson(snapshot.header))
      .Seconds("deadman_s", snapshot.deadman_ns)
      .Raw("scopes", JsonArray(scopes))
      .Raw("mirror", MirrorJson(snapshot.mirror))
      .Raw("processes", JsonArray(processes))
      .Raw("totals", TotalsJson(snapshot.totals))
      .Raw("breaker", FormatBreakerJson(snapshot.window))
      .Done();
}

}  // namespace vix::inspect
