// The Redis mirror from Python (pybind11): one per segment per process,
// started on an Engine and stopped (or garbage-collected) before it.
#include <pybind11/pybind11.h>

#include <memory>
#include <string>

#include "api.h"
#include "errors.h"
#include "objects.h"
#include "vixbreaker/persist/mirror.h"

namespace py = pybind11;

namespace vix::py_api {
namespace {

using vix::pyc::ThrowIfError;

absl::Duration SecondsOption(double seconds, const char* name) {
  if (!std::isfinite(seconds) || seconds <= 0) {
    throw py::value_error(std::string("bad ") + name + " " +
                          std::to_string(seconds) +
                          ": expected a positive number of seconds");
  }
  return absl::Seconds(seconds);
}

class PyMirror {
 public:
  PyMirror(py::object engine, const std::string& url, const std::string& policy,
           const std::string& key_prefix, double poll_interval_s,
           double command_timeout_s, int log_fd)
      : engine_(std::move(engine)) {
    vix::pyc::EngineState* state = vix::pyc::EngineStateOf(engine_.ptr());
    if (state == nullptr) throw py::error_already_set();
    persist::MirrorOptions options;
    options.redis_url = url;
    options.key_prefix = key_prefix;
    absl::StatusOr<persist::UnhealthyPolicy> parsed =
        persist::ParseUnhealthyPolicy(policy);
    ThrowIfError(parsed.status());
    options.policy = *parsed;
    options.poll_interval = SecondsOption(poll_interval_s, "poll_interval_s");
    options.command_timeout =
        SecondsOption(command_timeout_s, "command_timeout_s");
    options.log_fd = log_fd;
    absl::StatusOr<std::unique_ptr<persist::Mirror>> mirror =
        persist::Mirror::Start(*state->engine, options);
    ThrowIfError(mirror.status());
    mirror_ = *std::move(mirror);
    endpoint_ = mirror_->endpoint().Redacted();
  }
  ~PyMirror() { Stop(); }

  void Stop() {
    if (mirror_ == nullptr) return;
    py::gil_scoped_release release;  // waits up to a command timeout
    mirror_.reset();
  }
  bool running() const { return mirror_ != nullptr; }
  bool holds_lease() const { return mirror_ && mirror_->holds_lease(); }
  const std::string& endpoint() const { return endpoint_; }
  py::object engine() const { return engine_; }

 private:
  py::object engine_;  // outlives the mirror thread
  std::unique_ptr<persist::Mirror> mirror_;
  std::string endpoint_;  // redacted: safe to print
};

}  // namespace

void DefineMirrorApi(py::module_& m) {
  py::class_<PyMirror>(m, "_Mirror")
      .def(py::init<py::object, const std::string&, const std::string&,
                    const std::string&, double, double, int>(),
           py::arg("engine"), py::arg("redis_url"), py::arg("policy"),
           py::arg("key_prefix"), py::arg("poll_interval_s"),
           py::arg("command_timeout_s"), py::arg("log_fd"))
      .def("stop", &PyMirror::Stop)
      .def_property_readonly("running", &PyMirror::running)
      .def_property_readonly("holds_lease", &PyMirror::holds_lease)
      .def_property_readonly("endpoint", &PyMirror::endpoint)
      .def_property_readonly("engine", &PyMirror::engine);
}

}  // namespace vix::py_api
