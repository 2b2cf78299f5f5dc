// The stateless parts (pybind11): the pure policy as `vixctl policy`, the
// breaker's threshold check, the detector (SPEC 7) as `vixctl zscore` and
// per match.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "api.h"
#include "errors.h"
#include "names.h"
#include "objects.h"
#include "vixbreaker/core/config.h"
#include "vixbreaker/core/detector.h"
#include "vixbreaker/core/parse.h"
#include "vixbreaker/core/policy.h"
#include "vixbreaker/inspect/config_file.h"
#include "vixbreaker/shm/process.h"

namespace py = pybind11;

namespace vix::py_api {
namespace {

using vix::pyc::ThrowIfError;

template <typename T>
T ValueOrThrow(absl::StatusOr<T> value) {
  ThrowIfError(value.status());
  return *std::move(value);
}

py::object Name(PyObject* interned) {
  return py::reinterpret_borrow<py::object>(interned);
}

py::dict ZScoreDict(const ZScore& z) {
  py::dict out;
  out["z"] = z.z;
  out["status"] = Name(vix::pyc::g_names.status[static_cast<int>(z.status)]);
  return out;
}

// Odds checked as vixctl checks them, naming the position.
py::dict ZScoreOf(const std::vector<double>& history, double current) {
  if (history.empty()) {
    ThrowIfError(absl::InvalidArgumentError(
        "history is empty: pass the market's previous odds, oldest first"));
  }
  for (size_t i = 0; i < history.size(); ++i) {
    ThrowIfError(
        ValidateOdds(history[i], absl::StrCat("history value ", i + 1)));
  }
  ThrowIfError(ValidateOdds(current, "current"));
  const DetectorConfig config;
  py::dict out = ZScoreDict(ValueOrThrow(ComputeZScore(history, current)));
  // As vixctl zscore: the detector keeps the newest max_samples.
  const size_t used = std::min(history.size(), config.max_samples);
  out["samples_used"] = used;
  out["samples_dropped"] = history.size() - used;
  return out;
}

int64_t NowOr(std::optional<double> now) {
  if (!now) return shm::RealtimeNowNs();
  return ValueOrThrow(SecondsToNs(*now, "now"));
}

// policy(status, age_min, base_ttl, stakes, league, competition) as
// `vixctl policy --json`: no segment; a negative age is a future start.
py::dict PolicyDecide(const std::string& status_text,
                      std::optional<double> age_min, int64_t base_ttl_seconds,
                      std::optional<std::string> stakes_text,
                      const std::string& league,
                      const std::string& competition) {
  Config config = ValueOrThrow(inspect::LoadConfigFromEnv());
  Policy policy = ValueOrThrow(Policy::Create(config.policy));
  const Status status = ValueOrThrow(ParseStatus(status_text));
  const BaseTtl base_ttl =
      ValueOrThrow(ParseBaseTtl(std::to_string(base_ttl_seconds)));
  const Stakes stakes = stakes_text ? ValueOrThrow(ParseStakes(*stakes_text))
                                    : policy.Classify(league, competition);
  Decision d;
  bool future_start = false;
  if (status == Status::kPanic) {
    if (!age_min) {
      ThrowIfError(
          absl::InvalidArgumentError("age_min is required with status panic"));
    }
    if (!std::isfinite(*age_min)) {
      ThrowIfError(absl::InvalidArgumentError(absl::StrCat(
          "bad age_min ", *age_min, ": expected a finite number of minutes")));
    }
    future_start = *age_min < 0;
    const int64_t age_ns = ValueOrThrow(
        SecondsToNs((future_start ? 0 : *age_min) * 60, "age_min"));
    d = policy.DecideForAge(age_ns, base_ttl, stakes);
  } else {
    d = Policy::DecideNoEpisode(base_ttl, stakes);
  }
  py::object decision =
      py::reinterpret_steal<py::object>(vix::pyc::NewDecision(d));
  if (!decision) throw py::error_already_set();
  py::dict out = decision.attr("as_dict")();
  out.attr("pop")("episode_start");
  out.attr("pop")("first_writer");
  if (future_start) out["future_start"] = true;
  return out;
}

class Detector {
 public:
  explicit Detector(const DetectorConfig& config)
      : detector_(ValueOrThrow(VolatilityDetector::Create(config))) {}
  py::dict Observe(const std::string& market, double odds,
                   std::optional<double> now) {
    return ZScoreDict(
        ValueOrThrow(detector_.Observe(market, odds, NowOr(now))));
  }
  py::object MatchStatus(std::optional<double> now) const {
    return Name(
        vix::pyc::g_names
            .status[static_cast<int>(detector_.MatchStatus(NowOr(now)))]);
  }
  size_t SampleCount(const std::string& market) const {
    return detector_.SampleCount(market);
  }

 private:
  VolatilityDetector detector_;
};

// A validated policy (configuration text, else VIX_CONFIG, else defaults)
// for the compat layer's pure calls.
class PyPolicy {
 public:
  explicit PyPolicy(std::optional<std::string> config_text)
      : policy_(ValueOrThrow(Policy::Create(LoadConfig(config_text).policy))) {}
  py::object Classify(const std::string& league,
                      const std::string& competition) const {
    return Name(
        vix::pyc::g_names
            .stakes[static_cast<int>(policy_.Classify(league, competition))]);
  }
  // The decision for an episode of `age_minutes` (finite; negative is a
  // future start: tier 1).
  py::object DecideForAge(double age_minutes, int64_t base_ttl_seconds,
                          const std::string& stakes_text) const {
    const BaseTtl base_ttl =
        ValueOrThrow(ParseBaseTtl(std::to_string(base_ttl_seconds)));
    const Stakes stakes = ValueOrThrow(ParseStakes(stakes_text));
    const int64_t age_ns = ValueOrThrow(SecondsToNs(
        (age_minutes < 0 ? 0 : age_minutes) * 60, "panic_duration_minutes"));
    PyObject* d =
        vix::pyc::NewDecision(policy_.DecideForAge(age_ns, base_ttl, stakes));
    if (d == nullptr) throw py::error_already_set();
    return py::reinterpret_steal<py::object>(d);
  }
  // ((tier2_min, tier3_min, tier4_min), (ttl2, ttl3, ttl4)) for `stakes`.
  py::tuple Row(const std::string& stakes_text) const {
    const Stakes stakes = ValueOrThrow(ParseStakes(stakes_text));
    const TierRow& row = policy_.config().tiers[static_cast<int>(stakes)];
    return py::make_tuple(
        py::make_tuple(row.from_minutes[0], row.from_minutes[1],
                       row.from_minutes[2]),
        py::make_tuple(row.ttl_seconds[0], row.ttl_seconds[1],
                       row.ttl_seconds[2]));
  }

 private:
  static Config LoadConfig(const std::optional<std::string>& text) {
    if (text) return ValueOrThrow(ParseConfig(*text));
    absl::StatusOr<Config> config = inspect::LoadConfigFromEnv();
    if (!config.ok()) {
      ThrowIfError(absl::InvalidArgumentError(config.status().message()));
    }
    return *config;
  }
  Policy policy_;
};

}  // namespace

void DefinePureApi(py::module_& m) {
  py::class_<PyPolicy>(m, "_Policy")
      .def(py::init<std::optional<std::string>>(), py::arg("config_text"))
      .def("classify", &PyPolicy::Classify)
      .def("decide_for_age", &PyPolicy::DecideForAge)
      .def("row", &PyPolicy::Row);
  m.def("_validate_breaker_thresholds",
        [](double high_enter, double high_exit, double open_enter,
           double open_exit) {
          ThrowIfError(ValidateBreakerThresholds(
              {high_enter, high_exit, open_enter, open_exit}));
        });
  m.def("zscore", &ZScoreOf, py::arg("history"), py::arg("current"),
        "zscore(history, current) -> {'z': float, 'status': str}\n\n"
        "The detector (SPEC 7) on one market, no state, as `vixctl zscore "
        "--json`: `current` against `history` (oldest first). ValueError "
        "for an empty history or odds that are not finite and > 0.");
  m.def("policy", &PolicyDecide, py::arg("status"),
        py::arg("age_min") = py::none(), py::arg("base_ttl") = 60,
        py::arg("stakes") = py::none(), py::arg("league") = "",
        py::arg("competition") = "",
        "policy(status, age_min=None, base_ttl=60, stakes=None, league='', "
        "competition='') -> dict\n\n"
        "The pure policy as `vixctl policy --json` (configuration from "
        "VIX_CONFIG): the decision for an episode of age_min minutes (for "
        "'normal'/'warning' the age is ignored). No segment.");
  py::class_<Detector>(m, "VolatilityDetector",
                       "Per-market odds samples of one match (SPEC 7). Not "
                       "thread-safe: one per match, fed by one thread.")
      .def(py::init([](double window_s, size_t max_samples, size_t min_samples,
                       double panic_z, double warning_z) {
             DetectorConfig c;
             c.window_ns = ValueOrThrow(SecondsToNs(window_s, "window_s"));
             c.max_samples = max_samples;
             c.min_samples = min_samples;
             c.panic_z = panic_z;
             c.warning_z = warning_z;
             return Detector(c);
           }),
           py::arg("window_s") = 1800.0, py::arg("max_samples") = 100,
           py::arg("min_samples") = 3, py::arg("panic_z") = 2.0,
           py::arg("warning_z") = 1.5)
      .def("observe", &Detector::Observe, py::arg("market"), py::arg("odds"),
           py::arg("now") = py::none(),
           "observe(market, odds, now=None) -> {'z', 'status'}: scores odds "
           "against the market's samples in the window, then keeps it. `now` "
           "is Unix seconds (default: the clock).")
      .def("match_status", &Detector::MatchStatus, py::arg("now") = py::none(),
           "match_status(now=None) -> str: the most severe market status "
           "(panic if any market is).")
      .def("sample_count", &Detector::SampleCount, py::arg("market"));
}

}  // namespace vix::py_api
