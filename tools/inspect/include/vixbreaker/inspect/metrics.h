// The Prometheus text exposition (format 0.0.4) of a snapshot, for
// `vixctl metrics` and `vixctl serve` (SPEC 9). Metric names and labels are
// listed in docs/inspector.md; every series carries `segment="NAME"`.
#ifndef VIXBREAKER_INSPECT_METRICS_H_
#define VIXBREAKER_INSPECT_METRICS_H_

#include <string>

#include "absl/strings/string_view.h"
#include "vixbreaker/inspect/snapshot.h"

namespace vix::inspect {

// The Content-Type of the exposition over HTTP.
inline constexpr absl::string_view kExpositionContentType =
    "text/plain; version=0.0.4; charset=utf-8";

// The whole exposition, `vixbreaker_segment_up 1` included.
std::string FormatMetrics(const Snapshot& snapshot);

// The same families as one JSON object (`vixctl metrics --json`):
// {"schema_version":1,"segment":NAME,"families":{NAME:{"type":"gauge",
// "help":TEXT,"samples":[{"labels":{...},"value":NUMBER}]}}}, without the
// `segment` label (it is the top-level field). No trailing newline.
inline constexpr int kMetricsJsonSchemaVersion = 1;
std::string FormatMetricsJson(const Snapshot& snapshot);

// The exposition when the segment cannot be read: `vixbreaker_segment_up 0`
// only, so a scrape tells "no segment" apart from "exporter down".
std::string FormatSegmentDownMetrics(absl::string_view segment);

// Escapes a label value: backslash, double quote and newline.
std::string EscapeLabelValue(absl::string_view value);

}  // namespace vix::inspect

#endif  // VIXBREAKER_INSPECT_METRICS_H_
