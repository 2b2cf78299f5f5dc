// The engine's slow calls (pybind11): scopes, classification, admin,
// snapshots, the inspector's status, the window's construction, the
// detector and the pure policy. Each takes the Python Engine and reaches the
// C++ engine through EngineStateOf().
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <optional>
#include <string>
#include <vector>

#include "api.h"
#include "errors.h"
#include "names.h"
#include "objects.h"
#include "vixbreaker/cli/values.h"
#include "vixbreaker/core/breaker.h"
#include "vixbreaker/core/detector.h"
#include "vixbreaker/core/parse.h"
#include "vixbreaker/inspect/snapshot.h"
#include "vixbreaker/inspect/status_format.h"
#include "vixbreaker/shm/process.h"
#include "vixbreaker/shm/scope_name.h"

namespace py = pybind11;

namespace vix::py_api {
namespace {

using vix::pyc::EngineState;
using vix::pyc::ThrowIfError;

EngineState& StateOf(py::handle engine) {
  EngineState* state = vix::pyc::EngineStateOf(engine.ptr());
  if (state == nullptr) throw py::error_already_set();
  return *state;
}

shm::ScopeHandle HandleOf(py::handle engine, py::handle scope) {
  if (!PyObject_TypeCheck(scope.ptr(), &vix::pyc::ScopeType)) {
    throw py::type_error("scope must be a vixbreaker.Scope");
  }
  auto* s = reinterpret_cast<vix::pyc::ScopeObject*>(scope.ptr());
  if (s->engine != engine.ptr()) {
    throw py::value_error(
        "scope belongs to another Engine; resolve it on this one");
  }
  return s->handle;
}

py::object Take(PyObject* object) {
  if (object == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::object>(object);
}

// scope(engine, name, create) -> Scope, or None when absent and !create.
py::object ResolveScope(py::handle engine, const std::string& name,
                        bool create) {
  EngineState& state = StateOf(engine);
  ThrowIfError(shm::ValidateScopeName(name));
  absl::StatusOr<shm::ScopeHandle> handle =
      create ? state.engine->FindOrCreateScope(name)
             : state.engine->FindScope(name);
  if (!create && absl::IsNotFound(handle.status())) return py::none();
  ThrowIfError(handle.status());
  py::str py_name(name);
  return Take(vix::pyc::NewScope(engine.ptr(), *handle, py_name.ptr()));
}

void RemoveScope(py::handle engine, const std::string& name) {
  ThrowIfError(StateOf(engine).engine->RemoveScope(name));
}

py::object Classify(py::handle engine, const std::string& league,
                    const std::string& competition) {
  const Stakes stakes =
      StateOf(engine).engine->policy().Classify(league, competition);
  return py::reinterpret_borrow<py::object>(
      vix::pyc::g_names.stakes[static_cast<int>(stakes)]);
}

// at_text: Unix seconds as the caller wrote them (repr of a number), so the
// error quotes the value as vixctl's --at does.
void ForceStart(py::handle engine, py::handle scope,
                std::optional<std::string> at_text) {
  EngineState& state = StateOf(engine);
  const shm::ScopeHandle handle = HandleOf(engine, scope);
  int64_t at_ns = shm::RealtimeNowNs();
  if (at_text) {
    // vixctl's own parser, so the error is vixctl's, word for word.
    absl::StatusOr<int64_t> parsed =
        ctl::ParseStartFlag(*at_text, at_ns, shm::kMaxClockAheadNs);
    ThrowIfError(parsed.status());
    at_ns = *parsed;
  }
  ThrowIfError(state.engine->ForceStart(handle, at_ns));
}

bool ForceEnd(py::handle engine, py::handle scope) {
  EngineState& state = StateOf(engine);
  absl::StatusOr<bool> ended = state.engine->ForceEnd(HandleOf(engine, scope));
  ThrowIfError(ended.status());
  return *ended;
}

py::object UnixSecondsOrNone(int64_t ns) {
  if (ns == 0) return py::none();
  return py::float_(static_cast<double>(ns) / 1e9);
}

py::dict Episode(py::handle engine, py::handle scope) {
  const shm::EpisodeSnapshot s =
      StateOf(engine).engine->Snapshot(HandleOf(engine, scope));
  py::dict out;
  out["active"] = s.active;
  out["forced"] = s.forced;
  out["episode_start"] = UnixSecondsOrNone(s.start_ns);
  out["last_panic"] = UnixSecondsOrNone(s.last_panic_ns);
  out["calm_since"] = UnixSecondsOrNone(s.calm_since_ns);
  out["remote_start"] = UnixSecondsOrNone(s.remote_start_ns);
  out["first_writer_pid"] = s.first_writer_pid == 0
                                ? py::object(py::none())
                                : py::object(py::int_(s.first_writer_pid));
  out["episodes_started"] = s.episodes_started;
  out["episodes_ended"] = s.episodes_ended;
  return out;
}

// The inspector's JSON (`vixctl status --json`) of the engine's segment.
std::string StatusJson(py::handle engine, std::optional<std::string> now_text) {
  EngineState& state = StateOf(engine);
  int64_t now = shm::RealtimeNowNs();
  if (now_text) {
    absl::StatusOr<int64_t> parsed = ParseUnixSecondsToNs(*now_text);
    ThrowIfError(parsed.status());
    now = *parsed;
  }
  if (state.engine->segment() == nullptr) {
    ThrowIfError(state.engine->segment_status());
  }
  absl::StatusOr<inspect::Inspector> inspector =
      inspect::Inspector::Create(state.config);
  ThrowIfError(inspector.status());
  std::string json;
  {
    py::gil_scoped_release release;
    json = inspect::FormatStatusJson(
        inspector->Read(*state.engine->segment(), now));
  }
  return json;
}

void FlushLogs(py::handle engine) {
  EngineState& state = StateOf(engine);
  py::gil_scoped_release release;
  state.engine->FlushLogs();
}

py::object OpenWindow(py::handle engine, double high_enter, double high_exit,
                      double open_enter, double open_exit, int log_fd) {
  EngineState& state = StateOf(engine);
  shm::WindowOptions options;
  options.thresholds = {high_enter, high_exit, open_enter, open_exit};
  options.log_fd = log_fd;
  absl::StatusOr<std::unique_ptr<shm::RollingWindow>> window =
      shm::RollingWindow::Open(*state.engine, options);
  ThrowIfError(window.status());
  return Take(vix::pyc::NewWindow(engine.ptr(), *std::move(window)));
}

}  // namespace

void DefineEngineApi(py::module_& m) {
  m.def("_scope", &ResolveScope);
  m.def("_remove_scope", &RemoveScope);
  m.def("_classify", &Classify);
  m.def("_force_start", &ForceStart);
  m.def("_force_end", &ForceEnd);
  m.def("_episode", &Episode);
  m.def("_status_json", &StatusJson);
  m.def("_flush_logs", &FlushLogs);
  m.def("_open_window", &OpenWindow);
}

}  // namespace vix::py_api
