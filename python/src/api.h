// The pybind11 halves of the module, each defining its functions on the
// extension module (module.cc calls them).
#ifndef VIXBREAKER_PYTHON_API_H_
#define VIXBREAKER_PYTHON_API_H_

#include <pybind11/pybind11.h>

#include "vixbreaker/core/breaker.h"

namespace vix::py_api {

void DefineEngineApi(pybind11::module_& m);
void DefinePureApi(pybind11::module_& m);  // policy, detector, thresholds
void DefineMirrorApi(pybind11::module_& m);

}  // namespace vix::py_api

#endif  // VIXBREAKER_PYTHON_API_H_
