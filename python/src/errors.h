// absl::Status -> Python exceptions. Bad input (InvalidArgument, OutOfRange)
// is ValueError with the message vixctl prints; every other failure is
// vixbreaker.Error (a RuntimeError) whose `code` attribute names the
// absl code (e.g. "RESOURCE_EXHAUSTED" for a full scope table, "NOT_FOUND"
// for a missing segment).
#ifndef VIXBREAKER_PYTHON_ERRORS_H_
#define VIXBREAKER_PYTHON_ERRORS_H_

#include <Python.h>

#include "absl/status/status.h"

namespace vix::pyc {

// vixbreaker.Error; created by InitErrors() at import.
extern PyObject* g_error_type;
bool InitErrors(PyObject* module);

// Sets the Python exception for `status` (not OK) and returns false.
bool SetError(const absl::Status& status);

// For pybind11 code: throws pybind11::error_already_set unless OK.
void ThrowIfError(const absl::Status& status);

}  // namespace vix::pyc

#endif  // VIXBREAKER_PYTHON_ERRORS_H_
