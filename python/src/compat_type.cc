// _native.CompatCore: the base class of vixbreaker.compat.VIXCircuitBreaker.
// Its get_ttl / get_adaptive_ttl / record_panic_status are METH_FASTCALL
// methods with the predecessor's signatures, so the drop-in costs one C call
// and a decision. The engine and window are bound lazily by the Python
// subclass's `_vix_open()` on first use.
#include "errors.h"
#include "names.h"
#include "objects.h"

namespace vix::pyc {
namespace {

constexpr Py_ssize_t kMaxCachedContexts = 4096;

CompatObject* AsCompat(PyObject* self) {
  return reinterpret_cast<CompatObject*>(self);
}

PyObject* CompatNew(PyTypeObject* type, PyObject*, PyObject*) {
  PyObject* self = type->tp_alloc(type, 0);
  if (self == nullptr) return nullptr;
  CompatObject* c = AsCompat(self);
  c->engine = nullptr;
  c->window = nullptr;
  c->stakes_cache = PyDict_New();
  c->cache_entries = 0;
  if (c->stakes_cache == nullptr) {
    Py_DECREF(self);
    return nullptr;
  }
  return self;
}

void CompatDealloc(PyObject* self) {
  CompatObject* c = AsCompat(self);
  Py_XDECREF(c->window);
  Py_XDECREF(c->engine);
  Py_XDECREF(c->stakes_cache);
  Py_TYPE(self)->tp_free(self);
}

// _vix_bind(engine, window): called by the subclass's _vix_open().
PyObject* CompatBind(PyObject* self, PyObject* args) {
  PyObject* engine = nullptr;
  PyObject* window = nullptr;
  if (!PyArg_ParseTuple(args, "OO!:_vix_bind", &engine, &WindowType, &window)) {
    return nullptr;
  }
  EngineState* state = EngineStateOf(engine);
  if (state == nullptr) return nullptr;
  CompatObject* c = AsCompat(self);
  c->scope = state->engine->global_scope();
  Py_XSETREF(c->engine, Py_NewRef(engine));
  Py_XSETREF(c->window, Py_NewRef(window));
  PyDict_Clear(c->stakes_cache);
  c->cache_entries = 0;
  Py_RETURN_NONE;
}

// _vix_unbind(): forgets the engine, window and cache (compat reset()).
PyObject* CompatUnbind(PyObject* self, PyObject*) {
  CompatObject* c = AsCompat(self);
  Py_CLEAR(c->window);
  Py_CLEAR(c->engine);
  PyDict_Clear(c->stakes_cache);
  c->cache_entries = 0;
  Py_RETURN_NONE;
}

// The bound engine's state, opening it on first use.
EngineState* Bound(PyObject* self) {
  CompatObject* c = AsCompat(self);
  if (VIX_UNLIKELY(c->engine == nullptr)) {
    PyObject* result = PyObject_CallMethod(self, "_vix_open", nullptr);
    if (result == nullptr) return nullptr;
    Py_DECREF(result);
    if (c->engine == nullptr) {
      PyErr_SetString(PyExc_RuntimeError, "_vix_open() did not bind an engine");
      return nullptr;
    }
  }
  return reinterpret_cast<EngineObject*>(c->engine)->state;
}

// match_context[key] (or .get(key, '')) as a new reference to a str.
PyObject* ContextString(PyObject* context, PyObject* key) {
  PyObject* value;
  if (PyDict_Check(context)) {
    value = PyDict_GetItemWithError(context, key);
    if (value == nullptr) {
      if (PyErr_Occurred()) return nullptr;
      return Py_NewRef(g_names.empty);
    }
    Py_INCREF(value);
  } else {
    value = PyObject_CallMethod(context, "get", "OO", key, g_names.empty);
    if (value == nullptr) return nullptr;
  }
  if (!PyUnicode_Check(value)) {
    PyErr_Format(PyExc_TypeError, "match_context['%U'] must be a str, not %s",
                 key, Py_TYPE(value)->tp_name);
    Py_DECREF(value);
    return nullptr;
  }
  return value;
}

// The predecessor's MatchImportance.classify: str.lower() (Unicode, as it
// did), then the configured keywords.
bool Classify(const Policy& policy, PyObject* league, PyObject* competition,
              Stakes* out) {
  PyObject* lower[2] = {PyObject_CallMethod(league, "lower", nullptr),
                        PyObject_CallMethod(competition, "lower", nullptr)};
  bool ok = lower[0] != nullptr && lower[1] != nullptr;
  Py_ssize_t sizes[2] = {0, 0};
  const char* texts[2] = {nullptr, nullptr};
  for (int i = 0; ok && i < 2; ++i) {
    texts[i] = PyUnicode_Check(lower[i])
                   ? PyUnicode_AsUTF8AndSize(lower[i], &sizes[i])
                   : nullptr;
    ok = texts[i] != nullptr;
  }
  if (ok) {
    *out = policy.Classify(absl::string_view(texts[0], sizes[0]),
                           absl::string_view(texts[1], sizes[1]));
  } else if (!PyErr_Occurred()) {
    PyErr_SetString(PyExc_TypeError, "str.lower() did not return a str");
  }
  Py_XDECREF(lower[0]);
  Py_XDECREF(lower[1]);
  return ok;
}

// Looks the pair up in the cache (exact str only: a subclass may hash
// differently), classifying and remembering it on a miss.
bool CachedStakes(CompatObject* c, const Policy& policy, PyObject* league,
                  PyObject* competition, Stakes* out) {
  const bool cacheable =
      PyUnicode_CheckExact(league) && PyUnicode_CheckExact(competition);
  PyObject* inner = nullptr;
  if (cacheable) {
    inner = PyDict_GetItemWithError(c->stakes_cache, league);
    if (inner != nullptr) {
      PyObject* hit = PyDict_GetItemWithError(inner, competition);
      if (hit != nullptr) {
        *out = static_cast<Stakes>(PyLong_AsLong(hit));
        return true;
      }
    }
    if (PyErr_Occurred()) return false;
  }
  if (!Classify(policy, league, competition, out)) return false;
  if (!cacheable) return true;
  if (c->cache_entries >= kMaxCachedContexts) {
    PyDict_Clear(c->stakes_cache);  // many distinct contexts: start over
    c->cache_entries = 0;
    inner = nullptr;
  }
  PyObject* value = PyLong_FromLong(static_cast<long>(*out));
  bool ok = value != nullptr;
  if (ok && inner == nullptr) {
    PyObject* fresh = PyDict_New();
    ok =
        fresh != nullptr && PyDict_SetItem(c->stakes_cache, league, fresh) == 0;
    inner = fresh;
    Py_XDECREF(fresh);  // the cache holds it
  }
  ok = ok && PyDict_SetItem(inner, competition, value) == 0;
  Py_XDECREF(value);
  if (ok) ++c->cache_entries;
  return ok;
}

bool StakesOfContext(CompatObject* c, const Policy& policy, PyObject* context,
                     Stakes* out) {
  if (context == Py_None ||
      (PyDict_CheckExact(context) && PyDict_GET_SIZE(context) == 0)) {
    return CachedStakes(c, policy, g_names.empty, g_names.empty, out);
  }
  PyObject* league = ContextString(context, g_names.league);
  if (league == nullptr) return false;
  PyObject* competition = ContextString(context, g_names.competition);
  bool ok = competition != nullptr &&
            CachedStakes(c, policy, league, competition, out);
  Py_DECREF(league);
  Py_XDECREF(competition);
  return ok;
}

// Fills `out` from positional args then keywords, by the names in `names`.
bool BindArgs(const char* function, PyObject* const* args, size_t nargsf,
              PyObject* kwnames, PyObject* const* names, int count,
              int required, PyObject** out) {
  const Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
  if (VIX_UNLIKELY(nargs > count)) {
    PyErr_Format(PyExc_TypeError, "%s() takes at most %d arguments (%zd given)",
                 function, count, nargs);
    return false;
  }
  for (Py_ssize_t i = 0; i < nargs; ++i) out[i] = args[i];
  if (VIX_UNLIKELY(kwnames != nullptr)) {
    const Py_ssize_t nkw = PyTuple_GET_SIZE(kwnames);
    for (Py_ssize_t k = 0; k < nkw; ++k) {
      PyObject* key = PyTuple_GET_ITEM(kwnames, k);
      int slot = -1;
      for (int i = 0; i < count; ++i) {
        if (key == names[i] || PyUnicode_Compare(key, names[i]) == 0) {
          slot = i;
          break;
        }
      }
      if (slot < 0 || out[slot] != nullptr) {
        PyErr_Format(PyExc_TypeError, "%s() got %s keyword argument '%U'",
                     function, slot < 0 ? "an unexpected" : "a repeated", key);
        return false;
      }
      out[slot] = args[nargs + k];
    }
  }
  for (int i = 0; i < required; ++i) {
    if (out[i] == nullptr) {
      PyErr_Format(PyExc_TypeError, "%s() missing required argument '%U'",
                   function, names[i]);
      return false;
    }
  }
  return true;
}

PyObject* TtlTuple(int32_t ttl, PyObject* label) {
  PyObject* result = PyTuple_New(2);
  if (result == nullptr) return nullptr;
  PyObject* ttl_object = PyLong_FromLong(ttl);
  if (ttl_object == nullptr) {
    Py_DECREF(result);
    return nullptr;
  }
  PyTuple_SET_ITEM(result, 0, ttl_object);
  PyTuple_SET_ITEM(result, 1, Py_NewRef(label));
  return result;
}

// get_ttl(base_ttl, vix_status="normal", match_context=None) -> (ttl, mode)
PyObject* CompatGetTtl(PyObject* self, PyObject* const* args, size_t nargsf,
                       PyObject* kwnames) {
  PyObject* names[3] = {g_names.base_ttl, g_names.vix_status,
                        g_names.match_context};
  PyObject* values[3] = {nullptr, nullptr, nullptr};
  if (!BindArgs("get_ttl", args, nargsf, kwnames, names, 3, 1, values)) {
    return nullptr;
  }
  EngineState* state = Bound(self);
  if (VIX_UNLIKELY(state == nullptr)) return nullptr;
  Status status = Status::kNormal;
  BaseTtl base_ttl;
  Stakes stakes;
  if (VIX_UNLIKELY(
          !BaseTtlFromPy(values[0], &base_ttl) ||
          (values[1] != nullptr && !StatusFromPy(values[1], &status)) ||
          !StakesOfContext(AsCompat(self), state->engine->policy(),
                           values[2] ? values[2] : Py_None, &stakes))) {
    return nullptr;
  }
  const Decision d =
      state->engine->Decide(AsCompat(self)->scope, status, base_ttl, stakes);
  return TtlTuple(d.ttl_seconds, g_names.mode[static_cast<int>(d.mode)]);
}

// Shared by get_adaptive_ttl and record_panic_status.
bool RecordSample(PyObject* self, PyObject* status_object,
                  PyObject* base_ttl_object, shm::WindowDecision* out) {
  if (VIX_UNLIKELY(Bound(self) == nullptr)) return false;
  Status status;
  BaseTtl base_ttl;
  BaseTtl::FromSeconds(60, &base_ttl);  // the predecessor's default
  if (!StatusFromPy(status_object, &status) ||
      (base_ttl_object != nullptr && base_ttl_object != Py_None &&
       !BaseTtlFromPy(base_ttl_object, &base_ttl))) {
    return false;
  }
  WindowObject* w = reinterpret_cast<WindowObject*>(AsCompat(self)->window);
  *out = w->window->Record(status, base_ttl);
  return true;
}

// get_adaptive_ttl(vix_status, base_ttl=None) -> (ttl, strategy)
PyObject* CompatGetAdaptiveTtl(PyObject* self, PyObject* const* args,
                               size_t nargsf, PyObject* kwnames) {
  PyObject* names[2] = {g_names.vix_status, g_names.base_ttl};
  PyObject* values[2] = {nullptr, nullptr};
  shm::WindowDecision d;
  if (!BindArgs("get_adaptive_ttl", args, nargsf, kwnames, names, 2, 1,
                values) ||
      !RecordSample(self, values[0], values[1], &d)) {
    return nullptr;
  }
  return TtlTuple(d.breaker.ttl_seconds,
                  g_names.strategy[static_cast<int>(d.breaker.strategy)]);
}

// record_panic_status(vix_status) -> None
PyObject* CompatRecord(PyObject* self, PyObject* const* args, size_t nargsf,
                       PyObject* kwnames) {
  PyObject* names[1] = {g_names.vix_status};
  PyObject* values[1] = {nullptr};
  shm::WindowDecision d;
  if (!BindArgs("record_panic_status", args, nargsf, kwnames, names, 1, 1,
                values) ||
      !RecordSample(self, values[0], nullptr, &d)) {
    return nullptr;
  }
  Py_RETURN_NONE;
}

PyObject* CompatCacheSize(PyObject* self, void*) {
  return PyLong_FromSsize_t(AsCompat(self)->cache_entries);
}

#define VIX_FASTCALL_KW(f) \
  reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)(void)>(f))

PyMethodDef kCompatMethods[] = {
    {"get_ttl", VIX_FASTCALL_KW(CompatGetTtl), METH_FASTCALL | METH_KEYWORDS,
     "get_ttl($self, /, base_ttl, vix_status='normal', match_context=None)\n"
     "--\n\n-> (ttl, mode). "
     "The predecessor's decision: observes vix_status on the host's "
     "`global` episode (shared by every process through the segment) and "
     "returns the tier's TTL and PanicMode for the match's importance."},
    {"get_adaptive_ttl", VIX_FASTCALL_KW(CompatGetAdaptiveTtl),
     METH_FASTCALL | METH_KEYWORDS,
     "get_adaptive_ttl($self, /, vix_status, base_ttl=None)\n--\n\n"
     "-> (ttl, strategy). "
     "Records vix_status in the host's rolling window and returns the "
     "breaker's TTL and strategy ('bypass', 'adaptive', 'normal')."},
    {"record_panic_status", VIX_FASTCALL_KW(CompatRecord),
     METH_FASTCALL | METH_KEYWORDS,
     "record_panic_status($self, /, vix_status)\n--\n\n"
     "One sample in the host's window."},
    {"_vix_bind", CompatBind, METH_VARARGS, nullptr},
    {"_vix_unbind", CompatUnbind, METH_NOARGS, nullptr},
    {nullptr, nullptr, 0, nullptr}};

PyGetSetDef kCompatGetSet[] = {
    {"_vix_cached_contexts", CompatCacheSize, nullptr,
     "How many (league, competition) classifications are cached.", nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr}};

}  // namespace

PyTypeObject CompatType = {PyVarObject_HEAD_INIT(nullptr, 0)};

bool InitCompatType(PyObject* module) {
  PyTypeObject& t = CompatType;
  DescribeType(t, "vixbreaker._native.CompatCore", sizeof(CompatObject),
               Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
               "Native part of vixbreaker.compat.VIXCircuitBreaker.");
  t.tp_new = CompatNew;
  t.tp_dealloc = CompatDealloc;
  t.tp_methods = kCompatMethods;
  t.tp_getset = kCompatGetSet;
  return AddType(module, t, "CompatCore");
}

}  // namespace vix::pyc
