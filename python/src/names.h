// Interned Python strings for the vocabulary (SPEC 1): the hot calls return
// these objects (a reference count bump, no allocation) and recognise their
// arguments by pointer before falling back to the strict parsers.
#ifndef VIXBREAKER_PYTHON_NAMES_H_
#define VIXBREAKER_PYTHON_NAMES_H_

#include <Python.h>

#include "vixbreaker/core/breaker.h"
#include "vixbreaker/core/types.h"

namespace vix::pyc {

struct Names {
  PyObject* status[kStatusCount];        // normal, warning, panic
  PyObject* stakes[kStakesCount];        // high_stakes, ...
  PyObject* stakes_short[kStakesCount];  // high, medium, low
  PyObject* mode[kModeCount];            // NORMAL, PANIC_FULL, ...
  PyObject* reason[kReasonCount];        // tier, no_episode, ...
  PyObject* strategy[3];                 // bypass, adaptive, normal
  PyObject* breaker_mode[kBreakerModeCount];
  PyObject* league;  // match_context keys
  PyObject* competition;
  PyObject* base_ttl;  // keyword names of the compat calls
  PyObject* vix_status;
  PyObject* match_context;
  PyObject* empty;
};

// Filled by InitNames() at module import; immortal for the process.
extern Names g_names;
bool InitNames();

// `status` as a Status: by identity with the interned names, else parsed
// strictly (ParseStatus). On failure sets ValueError (TypeError for a
// non-str) and returns false.
bool StatusFromPy(PyObject* status, Status* out);
// `stakes` as Stakes: high/medium/low or the full names.
bool StakesFromPy(PyObject* stakes, Stakes* out);
// A base TTL 0..2^31-1 from a Python int (ValueError with vixctl's text).
bool BaseTtlFromPy(PyObject* base_ttl, BaseTtl* out);

}  // namespace vix::pyc

#endif  // VIXBREAKER_PYTHON_NAMES_H_
