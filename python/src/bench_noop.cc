// _vixbench_noop: the baseline of the Python decide benchmark (SPEC 10): a
// METH_FASTCALL function that takes decide's four arguments and returns a
// new (int, str) tuple, and nothing else.
#include <Python.h>

namespace {

PyObject* g_mode = nullptr;

PyObject* Noop(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  if (nargs != 4) {
    PyErr_SetString(PyExc_TypeError, "noop takes 4 arguments");
    return nullptr;
  }
  PyObject* ttl = PyLong_FromLong(PyLong_AsLong(args[2]));
  if (ttl == nullptr) return nullptr;
  PyObject* result = PyTuple_New(2);
  if (result == nullptr) {
    Py_DECREF(ttl);
    return nullptr;
  }
  PyTuple_SET_ITEM(result, 0, ttl);
  Py_INCREF(g_mode);
  PyTuple_SET_ITEM(result, 1, g_mode);
  return result;
}

PyMethodDef kMethods[] = {
    {"noop",
     reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)(void)>(Noop)),
     METH_FASTCALL,
     "noop(scope, status, base_ttl, stakes) -> (base_ttl, 'NORMAL')"},
    {nullptr, nullptr, 0, nullptr}};

PyModuleDef kModule = {PyModuleDef_HEAD_INIT, "_vixbench_noop",
                       "Benchmark baseline.", -1, kMethods};

}  // namespace

PyMODINIT_FUNC PyInit__vixbench_noop() {
  g_mode = PyUnicode_InternFromString("NORMAL");
  if (g_mode == nullptr) return nullptr;
  return PyModule_Create(&kModule);
}
