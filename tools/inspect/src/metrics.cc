#include "vixbreaker/inspect/metrics.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "vixbreaker/core/breaker.h"
#include "vixbreaker/core/json.h"

namespace vix::inspect {
namespace {

using Labels = std::vector<std::pair<std::string, std::string>>;

std::string SecondsValue(int64_t ns) {
  return absl::StrFormat("%.6f", static_cast<double>(ns) / 1e9);
}

std::string EscapeHelp(absl::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

// Collects families in order (each family's samples together, as the text
// format requires), then renders them as text or as one JSON object.
class Exposition {
 public:
  explicit Exposition(absl::string_view segment)
      : segment_(std::string(segment)) {}

  Exposition& Family(absl::string_view name, absl::string_view type,
                     absl::string_view help) {
    families_.push_back(
        {std::string(name), std::string(type), std::string(help), {}});
    return *this;
  }
  Exposition& Sample(const Labels& labels, absl::string_view value) {
    families_.back().samples.push_back({labels, std::string(value)});
    return *this;
  }
  Exposition& Sample(const Labels& labels, uint64_t value) {
    return Sample(labels, absl::StrCat(value));
  }
  Exposition& Sample(uint64_t value) { return Sample({}, value); }
  Exposition& Seconds(const Labels& labels, int64_t ns) {
    return Sample(labels, SecondsValue(ns));
  }

  std::string Text() const {
    std::string out;
    const std::string segment = EscapeLabelValue(segment_);
    for (const FamilyData& f : families_) {
      absl::StrAppend(&out, "# HELP ", f.name, " ", EscapeHelp(f.help), "\n",
                      "# TYPE ", f.name, " ", f.type, "\n");
      for (const SampleData& sample : f.samples) {
        absl::StrAppend(&out, f.name, "{segment=\"", segment, "\"");
        for (const auto& [label, value] : sample.labels) {
          absl::StrAppend(&out, ",", label, "=\"", EscapeLabelValue(value),
                          "\"");
        }
        absl::StrAppend(&out, "} ", sample.value, "\n");
      }
    }
    return out;
  }

  // {"schema_version":1,"segment":...,"families":{NAME:{"type","help",
  // "samples":[{"labels":{...},"value":N}]}}}
  std::string Json() const {
    JsonObject families;
    for (const FamilyData& f : families_) {
      std::vector<std::string> samples;
      for (const SampleData& sample : f.samples) {
        JsonObject labels;
        for (const auto& [label, value] : sample.labels) {
          labels.Str(label, value);
        }
        samples.push_back(JsonObject()
                              .Raw("labels", labels.Done())
                              .Raw("value", sample.value)
                              .Done());
      }
      families.Raw(f.name, JsonObject()
                               .Str("type", f.type)
                               .Str("help", f.help)
                               .Raw("samples", JsonArray(samples))
                               .Done());
    }
    return JsonObject()
        .Int("schema_version", kMetricsJsonSchemaVersion)
        .Str("segment", segment_)
        .Raw("families", families.Done())
        .Done();
  }

 private:
  struct SampleData {
    Labels labels;
    std::string value;  // a number as Prometheus text writes it
  };
  struct FamilyData {
    std::string name, type, help;
    std::vector<SampleData> samples;
  };
  std::string segment_;
  std::vector<FamilyData> families_;
};

void SegmentFamilies(const Snapshot& s, Exposition& e) {
  e.Family("vixbreaker_segment_up", "gauge",
           "1 if the segment could be read, 0 if it is missing or invalid.")
      .Sample(1);
  const HeaderView& h = s.header;
  e.Family("vixbreaker_segment_info", "gauge",
           "Segment identity; the value is always 1.")
      .Sample({{"layout_version",
                absl::StrCat(h.layout_major, ".", h.layout_minor)},
               {"generation", absl::StrCat(h.generation)}},
              1);
  e.Family("vixbreaker_segment_created_timestamp_seconds", "gauge",
           "When the segment was created (Unix time).")
      .Seconds({}, h.created_ns);
}

void EpisodeFamilies(const Snapshot& s, Exposition& e) {
  e.Family("vixbreaker_episode_active", "gauge",
           "1 while the scope has a running (or forced) panic episode.");
  for (const ScopeView& v : s.scopes) {
    e.Sample({{"scope", v.name}}, v.running() ? 1 : 0);
  }
  e.Family("vixbreaker_episode_forced", "gauge",
           "1 while the scope's episode was forced by an admin.");
  for (const ScopeView& v : s.scopes) {
    e.Sample({{"scope", v.name}}, v.episode == EpisodeState::kForced ? 1 : 0);
  }
  e.Family("vixbreaker_episode_start_timestamp_seconds", "gauge",
           "Start of the running episode (Unix time); 0 when none.");
  for (const ScopeView& v : s.scopes) {
    e.Seconds({{"scope", v.name}}, v.running() ? v.start_ns : 0);
  }
  e.Family("vixbreaker_episode_age_seconds", "gauge",
           "Age of the running episode; 0 when none.");
  for (const ScopeView& v : s.scopes) {
    for (const StakesView& k : v.stakes) {
      e.Seconds(
          {{"scope", v.name}, {"stakes", std::string(StakesName(k.stakes))}},
          v.age_ns);
    }
  }
  e.Family("vixbreaker_tier", "gauge",
           "Current tier (0 no episode, 1 PANIC_FULL .. 4 NEW_NORMAL).");
  for (const ScopeView& v : s.scopes) {
    for (const StakesView& k : v.stakes) {
      e.Sample(
          {{"scope", v.name}, {"stakes", std::string(StakesName(k.stakes))}},
          static_cast<uint64_t>(k.tier));
    }
  }
  e.Family("vixbreaker_tier_ttl_seconds", "gauge",
           "TTL of the current tier; only while an episode runs.");
  for (const ScopeView& v : s.scopes) {
    if (!v.running()) continue;
    for (const StakesView& k : v.stakes) {
      e.Sample(
          {{"scope", v.name}, {"stakes", std::string(StakesName(k.stakes))}},
          static_cast<uint64_t>(k.ttl_seconds));
    }
  }
  e.Family("vixbreaker_episodes_started_total", "counter",
           "Episodes started in the scope (first writers' CAS).");
  for (const ScopeView& v : s.scopes) {
    e.Sample({{"scope", v.name}}, v.episodes_started);
  }
  e.Family("vixbreaker_episodes_ended_total", "counter",
           "Episodes ended in the scope (calm, expiry, admin or remote).");
  for (const ScopeView& v : s.scopes) {
    e.Sample({{"scope", v.name}}, v.episodes_ended);
  }
}

void CounterFamilies(const Snapshot& s, Exposition& e) {
  const Counters& all = s.totals.all;
  e.Family("vixbreaker_decisions_total", "counter",
           "Decisions taken on this host, by mode (live and exited "
           "processes).");
  for (int m = 0; m < kModeCount; ++m) {
    e.Sample({{"mode", std::string(ModeName(static_cast<Mode>(m)))}},
             all.decisions[m]);
  }
  e.Family("vixbreaker_failsafe_decisions_total", "counter",
           "Fail-safe decisions (no segment, or mirror unhealthy under "
           "policy strict).")
      .Sample(all.failsafes);
  e.Family("vixbreaker_errors_total", "counter",
           "Errors counted by deciding processes.")
      .Sample(all.errors);
  e.Family("vixbreaker_anomalies_total", "counter",
           "Anomalies seen by deciding processes (episode start in the "
           "future).")
      .Sample(all.anomalies);
  e.Family("vixbreaker_log_events_dropped_total", "counter",
           "Log events dropped because a process's log writer could not keep "
           "up (a stalled reader of its log; SPEC 9).")
      .Sample(s.totals.log_events_dropped);
  e.Family("vixbreaker_slots_in_use", "gauge",
           "Process slots in use (one per deciding thread), by liveness.")
      .Sample({{"alive", "true"}}, s.totals.slots_alive)
      .Sample({{"alive", "false"}},
              s.totals.slots_in_use - s.totals.slots_alive);
}

void MirrorFamilies(const Snapshot& s, Exposition& e) {
  const MirrorView& m = s.mirror;
  e.Family("vixbreaker_mirror_configured", "gauge",
           "1 once a Redis mirror has run on this segment.")
      .Sample(m.configured ? 1 : 0);
  e.Family("vixbreaker_mirror_healthy", "gauge",
           "1 unless the mirror is configured but unhealthy.")
      .Sample(m.healthy ? 1 : 0);
  e.Family("vixbreaker_mirror_connected", "gauge",
           "1 while the mirror is connected to Redis.")
      .Sample(m.connected ? 1 : 0);
  e.Family("vixbreaker_mirror_lease_holder_pid", "gauge",
           "Pid of the process holding the mirror lease; 0 when none.")
      .Sample(static_cast<uint64_t>(m.lease_holder_pid > 0 ? m.lease_holder_pid
                                                           : 0));
  e.Family("vixbreaker_mirror_lease_expiry_timestamp_seconds", "gauge",
           "When the mirror lease expires unless renewed (Unix time).")
      .Seconds({}, m.lease_expiry_ns);
  e.Family("vixbreaker_mirror_lease_takeovers_total", "counter",
           "Times an expired mirror lease was taken over.")
      .Sample(m.lease_takeovers);
  e.Family("vixbreaker_redis_commands_total", "counter",
           "Redis commands sent by the mirror.")
      .Sample(m.commands_sent);
  e.Family("vixbreaker_redis_errors_total", "counter",
           "Redis errors seen by the mirror.")
      .Sample(m.redis_errors);
  e.Family("vixbreaker_redis_invalid_values_total", "counter",
           "Values under the Redis key that were rejected.")
      .Sample(m.invalid_values);
  e.Family("vixbreaker_redis_reconnects_total", "counter",
           "Reconnections of the mirror to Redis.")
      .Sample(m.reconnects);
  e.Family("vixbreaker_redis_publish_lag_seconds", "gauge",
           "Redis latency: the round trip of the mirror's last publication "
           "(SET and GET); never the age of an episode.")
      .Seconds({}, m.publish_lag_ns);
  e.Family("vixbreaker_redis_last_success_timestamp_seconds", "gauge",
           "Last successful Redis exchange (Unix time); 0 when never.")
      .Seconds({}, m.last_success_ns);
}

void BreakerFamilies(const Snapshot& s, Exposition& e) {
  const shm::WindowSnapshot& w = s.window;
  e.Family("vixbreaker_breaker_mode", "gauge",
           "The rolling-window breaker's mode: 1 for the mode in force.");
  for (BreakerMode mode : {BreakerMode::kNormal, BreakerMode::kHighVolatility,
                           BreakerMode::kCircuitOpen}) {
    e.Sample({{"mode", std::string(BreakerModeName(mode))}},
             w.mode == mode ? 1 : 0);
  }
  e.Family("vixbreaker_breaker_panic_ratio", "gauge",
           "Panic samples over all samples in the breaker's window (0..1).")
      .Sample({}, absl::StrFormat("%.6f", w.counts.PanicRatio()));
  e.Family("vixbreaker_breaker_window_samples", "gauge",
           "Samples in the breaker's window, by status.")
      .Sample({{"status", "panic"}}, w.counts.panic)
      .Sample({{"status", "all"}}, w.counts.total);
  e.Family("vixbreaker_breaker_transitions_total", "counter",
           "Mode transitions of the breaker since the segment was created.")
      .Sample(w.transitions);
}

}  // namespace

std::string EscapeLabelValue(absl::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

namespace {

Exposition AllFamilies(const Snapshot& snapshot) {
  Exposition e(snapshot.header.segment);
  SegmentFamilies(snapshot, e);
  EpisodeFamilies(snapshot, e);
  CounterFamilies(snapshot, e);
  MirrorFamilies(snapshot, e);
  BreakerFamilies(snapshot, e);
  return e;
}

}  // namespace

std::string FormatMetrics(const Snapshot& snapshot) {
  return AllFamilies(snapshot).Text();
}

std::string FormatMetricsJson(const Snapshot& snapshot) {
  return AllFamilies(snapshot).Json();
}

std::string FormatSegmentDownMetrics(absl::string_view segment) {
  Exposition e(segment);
  e.Family("vixbreaker_segment_up", "gauge",
           "1 if the segment could be read, 0 if it is missing or invalid.")
      .Sample(0);
  return e.Text();
}

}  // namespace vix::inspect
