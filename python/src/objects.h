// The C-API objects of the module. The hot calls (Engine.decide and the
// compat get_ttl / get_adaptive_ttl) are METH_FASTCALL methods of these
// types: pybind11's dispatch costs several times a decision. Everything
// else is pybind11 (engine_api.cc, window_api.cc, mirror_api.cc), reaching
// the C++ objects through these structs.
#ifndef VIXBREAKER_PYTHON_OBJECTS_H_
#define VIXBREAKER_PYTHON_OBJECTS_H_

#include <Python.h>

#include <memory>
#include <string>

#include "vixbreaker/core/config.h"
#include "vixbreaker/core/types.h"
#include "vixbreaker/shm/engine.h"
#include "vixbreaker/shm/window.h"

namespace vix::pyc {

// What an opened engine owns on the C++ side.
struct EngineState {
  std::string segment_name;
  Config config;
  std::unique_ptr<shm::Engine> engine;
};

// _native.EngineCore: the base class of vixbreaker.Engine.
struct EngineObject {
  PyObject_HEAD EngineState* state;  // null until __init__ succeeded
};

// _native.Scope: a resolved scope of one engine.
struct ScopeObject {
  PyObject_HEAD shm::ScopeHandle handle;
  PyObject* engine;  // strong: the handle is valid while the engine lives
  PyObject* name;    // str
};

// _native.Decision: the decision's fields, converted on access.
struct DecisionObject {
  PyObject_HEAD Decision decision;
};

// _native.Window: a rolling window on an engine's segment.
struct WindowObject {
  PyObject_HEAD shm::RollingWindow* window;  // owned
  PyObject* engine;  // strong: the window uses its segment
};

// _native.CompatCore: the base class of vixbreaker.compat.VIXCircuitBreaker.
struct CompatObject {
  PyObject_HEAD PyObject*
      engine;        // EngineObject, null until bound (opened lazily)
  PyObject* window;  // WindowObject, null until bound
  shm::ScopeHandle scope;
  // league -> {competition -> stakes index}: the classification of a
  // match_context, keyed by the two strings it depends on (so a mutated
  // dict is classified again, and equal dicts share an entry).
  PyObject* stakes_cache;
  Py_ssize_t cache_entries;
};

extern PyTypeObject EngineType;
extern PyTypeObject ScopeType;
extern PyTypeObject DecisionType;
extern PyTypeObject WindowType;
extern PyTypeObject CompatType;

// Each adds its type(s) to `module`.
bool InitEngineTypes(PyObject* module);
bool InitDecisionType(PyObject* module);
bool InitWindowType(PyObject* module);
bool InitCompatType(PyObject* module);

// Sets a static type's name, size, flags and doc (the caller adds slots).
void DescribeType(PyTypeObject& type, const char* name, Py_ssize_t size,
                  unsigned long flags, const char* doc);
// Readies `type` and adds it to `module` as `attribute`.
bool AddType(PyObject* module, PyTypeObject& type, const char* attribute);

// A new Decision object (the hot path's only allocation).
PyObject* NewDecision(const Decision& decision);
// A new Scope of `engine`.
PyObject* NewScope(PyObject* engine, shm::ScopeHandle handle, PyObject* name);
// The engine's state, or nullptr with an exception set (not an engine, or
// not opened).
EngineState* EngineStateOf(PyObject* engine);
// A new Window owning `window`.
PyObject* NewWindow(PyObject* engine,
                    std::unique_ptr<shm::RollingWindow> window);

}  // namespace vix::pyc

#endif  // VIXBREAKER_PYTHON_OBJECTS_H_
