// Left-aligned text columns for the human views, with optional per-cell
// terminal styles that do not disturb the alignment.
#ifndef VIXBREAKER_INSPECT_TEXT_TABLE_H_
#define VIXBREAKER_INSPECT_TEXT_TABLE_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace vix::inspect {

// ANSI SGR sequences used to mark changes in `vixctl watch`.
inline constexpr absl::string_view kStyleWorse = "\x1b[1;31m";   // bold red
inline constexpr absl::string_view kStyleBetter = "\x1b[1;32m";  // bold green
inline constexpr absl::string_view kStyleReset = "\x1b[0m";

struct Cell {
  Cell(std::string text) : text(std::move(text)) {}  // NOLINT: implicit
  Cell(const char* text) : text(text) {}             // NOLINT: implicit
  Cell(std::string text, absl::string_view style)
      : text(std::move(text)), style(style) {}
  std::string text;
  absl::string_view style;  // empty: plain
};

class TextTable {
 public:
  void AddRow(std::vector<Cell> row) { rows_.push_back(std::move(row)); }
  bool empty() const { return rows_.empty(); }
  // One line per row, each starting with `indent`; columns separated by two
  // spaces; no trailing spaces.
  std::string Render(absl::string_view indent) const;

 private:
  std::vector<std::vector<Cell>> rows_;
};

}  // namespace vix::inspect

#endif  // VIXBREAKER_INSPECT_TEXT_TABLE_H_
