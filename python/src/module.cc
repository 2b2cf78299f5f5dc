// The extension module vixbreaker._native: C-API types for the hot calls,
// pybind11 for the rest. The Python package (vixbreaker/__init__.py,
// compat.py) wraps both.
#include <pybind11/pybind11.h>

#include "api.h"
#include "errors.h"
#include "names.h"
#include "objects.h"

namespace vix::pyc {

void DescribeType(PyTypeObject& type, const char* name, Py_ssize_t size,
                  unsigned long flags, const char* doc) {
  type.tp_name = name;
  type.tp_basicsize = size;
  type.tp_flags = flags;
  type.tp_doc = doc;
}

bool AddType(PyObject* module, PyTypeObject& type, const char* attribute) {
  if (PyType_Ready(&type) < 0) return false;
  Py_INCREF(&type);
  if (PyModule_AddObject(module, attribute,
                         reinterpret_cast<PyObject*>(&type)) < 0) {
    Py_DECREF(&type);
    return false;
  }
  return true;
}

}  // namespace vix::pyc

PYBIND11_MODULE(_native, m) {
  m.doc() = "Native part of vixbreaker; import vixbreaker instead.";
  PyObject* module = m.ptr();
  if (!vix::pyc::InitNames() || !vix::pyc::InitErrors(module) ||
      !vix::pyc::InitDecisionType(module) ||
      !vix::pyc::InitEngineTypes(module) || !vix::pyc::InitWindowType(module) ||
      !vix::pyc::InitCompatType(module)) {
    throw pybind11::error_already_set();
  }
  vix::py_api::DefineEngineApi(m);
  vix::py_api::DefinePureApi(m);
  vix::py_api::DefineMirrorApi(m);
}
