// _native.EngineCore and _native.Scope. EngineCore is the base class of
// vixbreaker.Engine; its `decide` is the hot path (METH_FASTCALL: no
// argument tuple, no keyword parsing, one allocation for the result).
#include "errors.h"
#include "names.h"
#include "objects.h"
// After Python.h (objects.h): it uses Py_ssize_t.
#include <structmember.h>

#include "vixbreaker/core/config.h"
#include "vixbreaker/inspect/config_file.h"
#include "vixbreaker/shm/segment.h"

namespace vix::pyc {
namespace {

EngineObject* AsEngine(PyObject* self) {
  return reinterpret_cast<EngineObject*>(self);
}

absl::StatusOr<Config> ConfigFrom(PyObject* config_text) {
  if (config_text == Py_None) return inspect::LoadConfigFromEnv();
  Py_ssize_t size = 0;
  const char* text = PyUnicode_AsUTF8AndSize(config_text, &size);
  if (text == nullptr) return absl::InternalError("config text unreadable");
  return ParseConfig(absl::string_view(text, size));
}

// EngineCore(segment, config=None, log_fd=2, failsafe=False)
int EngineInit(PyObject* self, PyObject* args, PyObject* kwargs) {
  static const char* kKeywords[] = {"segment", "config", "log_fd", "failsafe",
                                    nullptr};
  const char* segment = nullptr;
  PyObject* config_text = Py_None;
  int log_fd = 2;
  int failsafe = 0;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "s|Oip:EngineCore",
                                   const_cast<char**>(kKeywords), &segment,
                                   &config_text, &log_fd, &failsafe)) {
    return -1;
  }
  if (AsEngine(self)->state != nullptr) {
    PyErr_SetString(PyExc_RuntimeError, "this Engine is already open");
    return -1;
  }
  if (config_text != Py_None && !PyUnicode_Check(config_text)) {
    PyErr_SetString(PyExc_TypeError, "config must be a str or None");
    return -1;
  }
  absl::Status name_ok = shm::ValidateSegmentName(segment);
  if (!name_ok.ok()) return SetError(name_ok), -1;
  absl::StatusOr<Config> config = ConfigFrom(config_text);
  if (!config.ok()) {
    // vixctl treats an unreadable or invalid configuration as bad input.
    return SetError(absl::InvalidArgumentError(config.status().message())), -1;
  }
  auto state = std::make_unique<EngineState>();
  state->segment_name = segment;
  state->config = *config;
  shm::EngineOptions options;
  options.segment.name = segment;
  options.config = *config;
  options.log_fd = log_fd;
  absl::StatusOr<std::unique_ptr<shm::Engine>> engine;
  Py_BEGIN_ALLOW_THREADS  // attach may wait for a creator
      engine = shm::Engine::Open(options);
  Py_END_ALLOW_THREADS if (!engine.ok()) return SetError(engine.status()), -1;
  if (!(*engine)->segment_status().ok() && !failsafe) {
    return SetError((*engine)->segment_status()), -1;
  }
  state->engine = *std::move(engine);
  AsEngine(self)->state = state.release();
  return 0;
}

void EngineDealloc(PyObject* self) {
  delete AsEngine(self)->state;
  Py_TYPE(self)->tp_free(self);
}

PyObject* EngineNew(PyTypeObject* type, PyObject*, PyObject*) {
  PyObject* self = type->tp_alloc(type, 0);
  if (self != nullptr) AsEngine(self)->state = nullptr;
  return self;
}

// decide(scope, status, base_ttl, stakes, /) -> Decision
PyObject* EngineDecide(PyObject* self, PyObject* const* args,
                       Py_ssize_t nargs) {
  if (VIX_UNLIKELY(nargs != 4)) {
    PyErr_Format(PyExc_TypeError,
                 "decide(scope, status, base_ttl, stakes) takes 4 positional "
                 "arguments (%zd given)",
                 nargs);
    return nullptr;
  }
  EngineState* state = AsEngine(self)->state;
  PyObject* scope = args[0];
  if (VIX_UNLIKELY(state == nullptr)) return EngineStateOf(self), nullptr;
  if (VIX_UNLIKELY(Py_TYPE(scope) != &ScopeType)) {
    PyErr_Format(PyExc_TypeError,
                 "scope must be a vixbreaker.Scope (from Engine.scope() or "
                 "Engine.global_scope), not %s",
                 Py_TYPE(scope)->tp_name);
    return nullptr;
  }
  ScopeObject* s = reinterpret_cast<ScopeObject*>(scope);
  if (VIX_UNLIKELY(s->engine != self)) {
    PyErr_SetString(PyExc_ValueError,
                    "scope belongs to another Engine; resolve it on this one");
    return nullptr;
  }
  Status status;
  BaseTtl base_ttl;
  Stakes stakes;
  if (VIX_UNLIKELY(!StatusFromPy(args[1], &status) ||
                   !BaseTtlFromPy(args[2], &base_ttl) ||
                   !StakesFromPy(args[3], &stakes))) {
    return nullptr;
  }
  return NewDecision(
      state->engine->Decide(s->handle, status, base_ttl, stakes));
}

PyObject* EngineSegment(PyObject* self, void*) {
  EngineState* state = EngineStateOf(self);
  if (state == nullptr) return nullptr;
  return PyUnicode_FromStringAndSize(state->segment_name.data(),
                                     state->segment_name.size());
}

PyObject* EngineSegmentError(PyObject* self, void*) {
  EngineState* state = EngineStateOf(self);
  if (state == nullptr) return nullptr;
  const absl::Status& status = state->engine->segment_status();
  if (status.ok()) Py_RETURN_NONE;
  return PyUnicode_FromStringAndSize(status.message().data(),
                                     status.message().size());
}

PyObject* EngineGlobalScope(PyObject* self, void*) {
  EngineState* state = EngineStateOf(self);
  if (state == nullptr) return nullptr;
  PyObject* name = PyUnicode_FromString("global");
  if (name == nullptr) return nullptr;
  PyObject* scope = NewScope(self, state->engine->global_scope(), name);
  Py_DECREF(name);
  return scope;
}

PyMethodDef kEngineMethods[] = {
    {"decide",
     reinterpret_cast<PyCFunction>(
         reinterpret_cast<void (*)(void)>(EngineDecide)),
     METH_FASTCALL,
     "decide($self, scope, status, base_ttl, stakes, /)\n--\n\n"
     "The hot path: observe `status` ('normal', 'warning', 'panic') on "
     "`scope`, update its episode and decide. `stakes` is 'high', 'medium', "
     "'low' or a full name ('high_stakes', ... as Engine.classify returns). "
     "Does not release the GIL (it takes nanoseconds). ValueError for a bad "
     "status, stakes or base_ttl (0..2**31-1), with vixctl's message."},
    {nullptr, nullptr, 0, nullptr}};

PyGetSetDef kEngineGetSet[] = {
    {"segment", EngineSegment, nullptr, "The segment's name.", nullptr},
    {"segment_error", EngineSegmentError, nullptr,
     "Why the segment could not be attached (a fail-safe engine), or None.",
     nullptr},
    {"global_scope", EngineGlobalScope, nullptr,
     "The default scope `global` (the predecessor's single key).", nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr}};

// ---- Scope --------------------------------------------------------------

void ScopeDealloc(PyObject* self) {
  ScopeObject* s = reinterpret_cast<ScopeObject*>(self);
  Py_XDECREF(s->engine);
  Py_XDECREF(s->name);
  PyObject_Free(self);
}

PyObject* ScopeRepr(PyObject* self) {
  return PyUnicode_FromFormat("Scope(%R)",
                              reinterpret_cast<ScopeObject*>(self)->name);
}

PyMemberDef kScopeMembers[] = {
    {"name", T_OBJECT_EX, offsetof(ScopeObject, name), READONLY,
     "The scope's name."},
    {"engine", T_OBJECT_EX, offsetof(ScopeObject, engine), READONLY,
     "The Engine the scope was resolved on."},
    {nullptr, 0, 0, 0, nullptr}};

}  // namespace

PyTypeObject EngineType = {PyVarObject_HEAD_INIT(nullptr, 0)};
PyTypeObject ScopeType = {PyVarObject_HEAD_INIT(nullptr, 0)};

EngineState* EngineStateOf(PyObject* engine) {
  if (!PyObject_TypeCheck(engine, &EngineType)) {
    PyErr_Format(PyExc_TypeError, "expected a vixbreaker.Engine, not %s",
                 Py_TYPE(engine)->tp_name);
    return nullptr;
  }
  EngineState* state = AsEngine(engine)->state;
  if (state == nullptr) {
    PyErr_SetString(PyExc_RuntimeError,
                    "this Engine is not open (its __init__ failed or was not "
                    "called)");
  }
  return state;
}

PyObject* NewScope(PyObject* engine, shm::ScopeHandle handle, PyObject* name) {
  ScopeObject* s = PyObject_New(ScopeObject, &ScopeType);
  if (s == nullptr) return nullptr;
  s->handle = handle;
  s->engine = Py_NewRef(engine);
  s->name = Py_NewRef(name);
  return reinterpret_cast<PyObject*>(s);
}

bool InitEngineTypes(PyObject* module) {
  PyTypeObject& e = EngineType;
  DescribeType(e, "vixbreaker._native.EngineCore", sizeof(EngineObject),
               Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
               "The native engine; use vixbreaker.Engine.");
  e.tp_new = EngineNew;
  e.tp_init = EngineInit;
  e.tp_dealloc = EngineDealloc;
  e.tp_methods = kEngineMethods;
  e.tp_getset = kEngineGetSet;

  PyTypeObject& s = ScopeType;
  DescribeType(
      s, "vixbreaker.Scope", sizeof(ScopeObject), Py_TPFLAGS_DEFAULT,
      "A resolved scope (an independent panic clock) of one Engine; get it "
      "from Engine.scope(name) or Engine.global_scope, once, and pass it to "
      "every decide().");
  s.tp_dealloc = ScopeDealloc;
  s.tp_repr = ScopeRepr;
  s.tp_members = kScopeMembers;
  return AddType(module, e, "EngineCore") && AddType(module, s, "Scope");
}

}  // namespace vix::pyc
