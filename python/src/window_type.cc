// _native.Window: the host's rolling-window breaker (SPEC 6) seen from one
// engine. `record` is METH_FASTCALL: the compat get_adaptive_ttl is built
// on the same C call.
#include "errors.h"
#include "names.h"
#include "objects.h"

namespace vix::pyc {
namespace {

WindowObject* AsWindow(PyObject* self) {
  return reinterpret_cast<WindowObject*>(self);
}

void WindowDealloc(PyObject* self) {
  WindowObject* w = AsWindow(self);
  delete w->window;  // before the engine whose segment it uses
  Py_XDECREF(w->engine);
  PyObject_Free(self);
}

// record(status, base_ttl=60, /) -> dict as `vixctl window --json`
PyObject* WindowRecord(PyObject* self, PyObject* const* args,
                       Py_ssize_t nargs) {
  if (nargs < 1 || nargs > 2) {
    PyErr_SetString(PyExc_TypeError,
                    "record(status, base_ttl=60) takes 1 or 2 arguments");
    return nullptr;
  }
  Status status;
  BaseTtl base_ttl;
  BaseTtl::FromSeconds(60, &base_ttl);
  if (!StatusFromPy(args[0], &status) ||
      (nargs == 2 && !BaseTtlFromPy(args[1], &base_ttl))) {
    return nullptr;
  }
  const shm::WindowDecision d =
      AsWindow(self)->window->Record(status, base_ttl);
  return Py_BuildValue(
      "{s:i,s:O,s:O,s:d}", "ttl", d.breaker.ttl_seconds, "strategy",
      g_names.strategy[static_cast<int>(d.breaker.strategy)], "breaker_mode",
      g_names.breaker_mode[static_cast<int>(d.breaker.mode)], "panic_ratio",
      d.counts.PanicRatio());
}

PyObject* WindowFlush(PyObject* self, PyObject*) {
  shm::RollingWindow* window = AsWindow(self)->window;
  Py_BEGIN_ALLOW_THREADS window->FlushLogs();
  Py_END_ALLOW_THREADS Py_RETURN_NONE;
}

PyObject* TransitionDict(const shm::WindowTransitionRecord& t) {
  return Py_BuildValue("{s:K,s:d,s:O,s:O,s:d,s:K,s:K,s:L}", "sequence",
                       static_cast<unsigned long long>(t.sequence), "at",
                       static_cast<double>(t.at_ns) / 1e9, "from",
                       g_names.breaker_mode[static_cast<int>(t.from)], "to",
                       g_names.breaker_mode[static_cast<int>(t.to)],
                       "panic_ratio", t.panic_ratio, "panic_samples",
                       static_cast<unsigned long long>(t.panic_samples),
                       "total_samples",
                       static_cast<unsigned long long>(t.total_samples), "pid",
                       static_cast<long long>(t.pid));
}

// snapshot() -> dict: the window now, read-only.
PyObject* WindowSnapshotOf(PyObject* self, PyObject*) {
  const shm::WindowSnapshot s = AsWindow(self)->window->Snapshot();
  PyObject* history = PyList_New(0);
  if (history == nullptr) return nullptr;
  for (const shm::WindowTransitionRecord& t : s.history) {
    PyObject* item = TransitionDict(t);
    if (item == nullptr || PyList_Append(history, item) < 0) {
      Py_XDECREF(item);
      Py_DECREF(history);
      return nullptr;
    }
    Py_DECREF(item);
  }
  return Py_BuildValue(
      "{s:O,s:K,s:K,s:K,s:d,s:d,s:d,s:K,s:K,s:N}", "breaker_mode",
      g_names.breaker_mode[static_cast<int>(s.mode)], "transitions",
      static_cast<unsigned long long>(s.transitions), "panic_samples",
      static_cast<unsigned long long>(s.counts.panic), "total_samples",
      static_cast<unsigned long long>(s.counts.total), "panic_ratio",
      s.counts.PanicRatio(), "bucket_width_s",
      static_cast<double>(s.bucket_width_ns) / 1e9, "window_s",
      static_cast<double>(s.window_ns) / 1e9, "late_samples",
      static_cast<unsigned long long>(s.late_samples), "saturated_samples",
      static_cast<unsigned long long>(s.saturated_samples), "history", history);
}

PyMethodDef kWindowMethods[] = {
    {"record",
     reinterpret_cast<PyCFunction>(
         reinterpret_cast<void (*)(void)>(WindowRecord)),
     METH_FASTCALL,
     "record($self, status, base_ttl=60, /)\n--\n\n"
     "Counts one sample in the host's window, moves the breaker at most one "
     "step and returns {'ttl', 'strategy', 'breaker_mode', 'panic_ratio'} "
     "as `vixctl window --json` prints them."},
    {"snapshot", WindowSnapshotOf, METH_NOARGS,
     "snapshot() -> dict: mode, counts and transition history, read-only."},
    {"flush_logs", WindowFlush, METH_NOARGS,
     "Writes queued transition log lines now."},
    {nullptr, nullptr, 0, nullptr}};

}  // namespace

PyTypeObject WindowType = {PyVarObject_HEAD_INIT(nullptr, 0)};

PyObject* NewWindow(PyObject* engine,
                    std::unique_ptr<shm::RollingWindow> window) {
  WindowObject* w = PyObject_New(WindowObject, &WindowType);
  if (w == nullptr) return nullptr;
  w->window = window.release();
  w->engine = Py_NewRef(engine);
  return reinterpret_cast<PyObject*>(w);
}

bool InitWindowType(PyObject* module) {
  PyTypeObject& t = WindowType;
  DescribeType(
      t, "vixbreaker.Window", sizeof(WindowObject), Py_TPFLAGS_DEFAULT,
      "The host's rolling-window breaker (SPEC 6), shared by every process "
      "on the segment; from Engine.window().");
  t.tp_dealloc = WindowDealloc;
  t.tp_methods = kWindowMethods;
  return AddType(module, t, "Window");
}

}  // namespace vix::pyc
