// _native.Decision: a decision's fields (SPEC 12's JSON), kept as the C
// struct and converted on access, so deciding allocates one small object.
#include "names.h"
#include "objects.h"

namespace vix::pyc {
namespace {

const Decision& Of(PyObject* self) {
  return reinterpret_cast<DecisionObject*>(self)->decision;
}

PyObject* GetTtl(PyObject* self, void*) {
  return PyLong_FromLong(Of(self).ttl_seconds);
}
PyObject* GetMode(PyObject* self, void*) {
  return Py_NewRef(g_names.mode[static_cast<int>(Of(self).mode)]);
}
PyObject* GetTier(PyObject* self, void*) {
  return PyLong_FromLong(Of(self).tier);
}
PyObject* GetStakes(PyObject* self, void*) {
  return Py_NewRef(g_names.stakes[static_cast<int>(Of(self).stakes)]);
}
PyObject* GetReason(PyObject* self, void*) {
  return Py_NewRef(g_names.reason[static_cast<int>(Of(self).reason)]);
}
PyObject* GetEpisodeStart(PyObject* self, void*) {
  const int64_t ns = Of(self).episode_start_ns;
  if (ns == 0) Py_RETURN_NONE;
  return PyFloat_FromDouble(static_cast<double>(ns) / 1e9);
}
PyObject* GetFirstWriter(PyObject* self, void*) {
  return PyBool_FromLong(Of(self).first_writer);
}
PyObject* GetStaleScope(PyObject* self, void*) {
  return PyBool_FromLong(Of(self).stale_scope);
}

PyGetSetDef kGetSet[] = {
    {"ttl", GetTtl, nullptr, "TTL in whole seconds.", nullptr},
    {"mode", GetMode, nullptr,
     "NORMAL, PANIC_FULL, PANIC_PARTIAL, DEGRADED or NEW_NORMAL.", nullptr},
    {"tier", GetTier, nullptr, "0 (no episode) .. 4.", nullptr},
    {"stakes", GetStakes, nullptr, "high_stakes, medium_stakes or low_stakes.",
     nullptr},
    {"reason", GetReason, nullptr, "tier, no_episode, failsafe or forced.",
     nullptr},
    {"episode_start", GetEpisodeStart, nullptr,
     "Episode start in Unix seconds, or None without an episode.", nullptr},
    {"first_writer", GetFirstWriter, nullptr,
     "True only for the call whose compare-and-swap started the episode.",
     nullptr},
    {"stale_scope", GetStaleScope, nullptr,
     "True if the scope was removed: the decision is fail-safe; resolve "
     "the name again (not in as_dict(), as vixctl does not print it).",
     nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr}};

constexpr const char* kFields[] = {
    "ttl", "mode", "tier", "stakes", "reason", "episode_start", "first_writer"};

PyObject* AsDict(PyObject* self, PyObject*) {
  PyObject* dict = PyDict_New();
  if (dict == nullptr) return nullptr;
  for (int i = 0; i < 7; ++i) {
    PyObject* value = kGetSet[i].get(self, nullptr);
    if (value == nullptr || PyDict_SetItemString(dict, kFields[i], value)) {
      Py_XDECREF(value);
      Py_DECREF(dict);
      return nullptr;
    }
    Py_DECREF(value);
  }
  return dict;
}

PyObject* Repr(PyObject* self) {
  const Decision& d = Of(self);
  PyObject* start = GetEpisodeStart(self, nullptr);
  if (start == nullptr) return nullptr;
  PyObject* text = PyUnicode_FromFormat(
      "Decision(ttl=%d, mode='%U', tier=%d, stakes='%U', reason='%U', "
      "episode_start=%R, first_writer=%s)",
      d.ttl_seconds, g_names.mode[static_cast<int>(d.mode)], d.tier,
      g_names.stakes[static_cast<int>(d.stakes)],
      g_names.reason[static_cast<int>(d.reason)], start,
      d.first_writer ? "True" : "False");
  Py_DECREF(start);
  return text;
}

PyObject* RichCompare(PyObject* a, PyObject* b, int op) {
  if (!PyObject_TypeCheck(b, &DecisionType) || (op != Py_EQ && op != Py_NE)) {
    Py_RETURN_NOTIMPLEMENTED;
  }
  const Decision& x = Of(a);
  const Decision& y = Of(b);
  const bool equal = x.ttl_seconds == y.ttl_seconds && x.mode == y.mode &&
                     x.tier == y.tier && x.stakes == y.stakes &&
                     x.reason == y.reason && x.first_writer == y.first_writer &&
                     x.episode_start_ns == y.episode_start_ns;
  return PyBool_FromLong(equal == (op == Py_EQ));
}

PyMethodDef kMethods[] = {
    {"as_dict", AsDict, METH_NOARGS,
     "The fields as a dict, as `vixctl decide --json` prints them."},
    {nullptr, nullptr, 0, nullptr}};

// Freed Decisions kept for reuse, as CPython keeps small tuples: a
// decision then costs no allocator call. Guarded by the GIL.
constexpr int kFreeListSize = 64;
DecisionObject* g_free_list[kFreeListSize];
int g_free_count = 0;

void DecisionDealloc(PyObject* self) {
  if (g_free_count < kFreeListSize) {
    g_free_list[g_free_count++] = reinterpret_cast<DecisionObject*>(self);
    return;
  }
  PyObject_Free(self);
}

}  // namespace

PyTypeObject DecisionType = {PyVarObject_HEAD_INIT(nullptr, 0)};

PyObject* NewDecision(const Decision& decision) {
  DecisionObject* self;
  if (VIX_LIKELY(g_free_count > 0)) {
    self = g_free_list[--g_free_count];
    _Py_NewReference(reinterpret_cast<PyObject*>(self));
  } else {
    self = PyObject_New(DecisionObject, &DecisionType);
    if (self == nullptr) return nullptr;
  }
  self->decision = decision;
  return reinterpret_cast<PyObject*>(self);
}

bool InitDecisionType(PyObject* module) {
  PyTypeObject& t = DecisionType;
  DescribeType(t, "vixbreaker.Decision", sizeof(DecisionObject),
               Py_TPFLAGS_DEFAULT,
               "One decision (SPEC 12): ttl, mode, tier, stakes, reason, "
               "episode_start, first_writer. Immutable.");
  t.tp_getset = kGetSet;
  t.tp_methods = kMethods;
  t.tp_repr = Repr;
  t.tp_richcompare = RichCompare;
  t.tp_hash = PyObject_HashNotImplemented;
  t.tp_dealloc = DecisionDealloc;
  return AddType(module, t, "Decision");
}

}  // namespace vix::pyc
