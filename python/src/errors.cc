#include "errors.h"

#include <pybind11/pybind11.h>

#include <string>

namespace vix::pyc {

PyObject* g_error_type = nullptr;

bool InitErrors(PyObject* module) {
  g_error_type = PyErr_NewExceptionWithDoc(
      "vixbreaker.Error",
      "A vixbreaker operation failed for a reason other than bad input; "
      "`code` names the cause (e.g. 'RESOURCE_EXHAUSTED', 'NOT_FOUND').",
      PyExc_RuntimeError, nullptr);
  if (g_error_type == nullptr) return false;
  Py_INCREF(g_error_type);
  return PyModule_AddObject(module, "Error", g_error_type) == 0;
}

bool SetError(const absl::Status& status) {
  const std::string message(status.message());
  if (status.ok()) {
    PyErr_SetString(PyExc_SystemError, "vixbreaker: error without a cause");
    return false;
  }
  if (absl::IsInvalidArgument(status) || absl::IsOutOfRange(status)) {
    PyErr_SetString(PyExc_ValueError, message.c_str());
    return false;
  }
  PyObject* value = PyObject_CallFunction(g_error_type, "s", message.c_str());
  if (value == nullptr) return false;
  const std::string code = absl::StatusCodeToString(status.code());
  PyObject* code_text = PyUnicode_FromString(code.c_str());
  if (code_text == nullptr ||
      PyObject_SetAttrString(value, "code", code_text)) {
    Py_XDECREF(code_text);
    Py_DECREF(value);
    return false;
  }
  Py_DECREF(code_text);
  PyErr_SetObject(g_error_type, value);
  Py_DECREF(value);
  return false;
}

void ThrowIfError(const absl::Status& status) {
  if (status.ok()) return;
  SetError(status);
  throw pybind11::error_already_set();
}

}  // namespace vix::pyc
