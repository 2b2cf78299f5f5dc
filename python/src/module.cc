// The extension module vixbreaker._native: C-API types for the hot calls,
// pybind11 for the rest. The Python package (vixbreaker/__init__.py,
// compat.py) wraps both.
#include <pybind11/pybind11.h>

#include "api.h"
#include "errors.h"
#include "names.h"
#include "objects.h"

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
