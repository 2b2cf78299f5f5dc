#include "names.h"

#include <string>

#include "errors.h"
#include "objects.h"
#include "vixbreaker/core/parse.h"

namespace vix::pyc {

Names g_names;

namespace {

PyObject* Intern(absl::string_view text) {
  return PyUnicode_InternFromString(std::string(text).c_str());
}

template <typename Enum, int N>
bool InternAll(PyObject* (&out)[N], absl::string_view (*name)(Enum)) {
  for (int i = 0; i < N; ++i) {
    out[i] = Intern(name(static_cast<Enum>(i)));
    if (out[i] == nullptr) return false;
  }
  return true;
}

// The str's UTF-8 text, or nullptr with TypeError naming `what`.
const char* Utf8Of(PyObject* text, const char* what, Py_ssize_t* size) {
  if (!PyUnicode_Check(text)) {
    PyErr_Format(PyExc_TypeError, "%s must be a str, not %s", what,
                 Py_TYPE(text)->tp_name);
    return nullptr;
  }
  return PyUnicode_AsUTF8AndSize(text, size);
}

}  // namespace

bool InitNames() {
  Names& n = g_names;
  if (!InternAll<Status>(n.status, StatusName) ||
      !InternAll<Stakes>(n.stakes, StakesName) ||
      !InternAll<Mode>(n.mode, ModeName) ||
      !InternAll<Reason>(n.reason, ReasonName) ||
      !InternAll<CacheStrategy>(n.strategy, CacheStrategyName) ||
      !InternAll<BreakerMode>(n.breaker_mode, BreakerModeName)) {
    return false;
  }
  const char* shorts[kStakesCount] = {"high", "medium", "low"};
  for (int i = 0; i < kStakesCount; ++i) {
    n.stakes_short[i] = Intern(shorts[i]);
    if (n.stakes_short[i] == nullptr) return false;
  }
  n.league = Intern("league");
  n.competition = Intern("competition");
  n.base_ttl = Intern("base_ttl");
  n.vix_status = Intern("vix_status");
  n.match_context = Intern("match_context");
  n.empty = Intern("");
  return n.league && n.competition && n.base_ttl && n.vix_status &&
         n.match_context && n.empty;
}

bool StatusFromPy(PyObject* status, Status* out) {
  for (int i = 0; i < kStatusCount; ++i) {
    if (status == g_names.status[i]) {
      *out = static_cast<Status>(i);
      return true;
    }
  }
  Py_ssize_t size = 0;
  const char* text = Utf8Of(status, "status", &size);
  if (text == nullptr) return false;
  absl::StatusOr<Status> parsed = ParseStatus(absl::string_view(text, size));
  if (!parsed.ok()) return SetError(parsed.status());
  *out = *parsed;
  return true;
}

bool StakesFromPy(PyObject* stakes, Stakes* out) {
  for (int i = 0; i < kStakesCount; ++i) {
    if (stakes == g_names.stakes[i] || stakes == g_names.stakes_short[i]) {
      *out = static_cast<Stakes>(i);
      return true;
    }
  }
  Py_ssize_t size = 0;
  const char* text = Utf8Of(stakes, "stakes", &size);
  if (text == nullptr) return false;
  absl::StatusOr<Stakes> parsed = ParseStakes(absl::string_view(text, size));
  if (!parsed.ok()) return SetError(parsed.status());
  *out = *parsed;
  return true;
}

bool BaseTtlFromPy(PyObject* base_ttl, BaseTtl* out) {
  // CPython 3.11 keeps 0 <= v < 2**30 in one digit: read it directly.
  if (VIX_LIKELY(PyLong_CheckExact(base_ttl))) {
    const Py_ssize_t size = Py_SIZE(base_ttl);
    if (size == 0 || size == 1) {
      const uint32_t digit =
          size == 0 ? 0
                    : reinterpret_cast<PyLongObject*>(base_ttl)->ob_digit[0];
      if (BaseTtl::FromSeconds(digit, out)) return true;
    }
  }
  if (!PyLong_Check(base_ttl)) {
    PyErr_Format(PyExc_TypeError, "base_ttl must be an int, not %s",
                 Py_TYPE(base_ttl)->tp_name);
    return false;
  }
  int overflow = 0;
  const long long seconds = PyLong_AsLongLongAndOverflow(base_ttl, &overflow);
  if (overflow == 0 && BaseTtl::FromSeconds(seconds, out)) return true;
  if (PyErr_Occurred()) return false;
  // Out of range: the parser's message, quoting the value as given.
  PyObject* text = PyObject_Str(base_ttl);
  if (text == nullptr) return false;
  absl::StatusOr<BaseTtl> parsed = ParseBaseTtl(PyUnicode_AsUTF8(text));
  Py_DECREF(text);
  return SetError(parsed.status());
}

}  // namespace vix::pyc
