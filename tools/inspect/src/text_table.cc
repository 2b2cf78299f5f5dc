#include "vixbreaker/inspect/text_table.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace vix::inspect {

std::string TextTable::Render(absl::string_view indent) const {
  std::vector<size_t> widths;
  for (const auto& row : rows_) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (size_t c = 0; c < row.size(); ++c) {
      widths[c] = std::max(widths[c], row[c].text.size());
    }
  }
  std::string out;
  for (const auto& row : rows_) {
    std::string line(indent);
    for (size_t c = 0; c < row.size(); ++c) {
      const Cell& cell = row[c];
      if (cell.style.empty()) {
        line += cell.text;
      } else {
        absl::StrAppend(&line, cell.style, cell.text, kStyleReset);
      }
      if (c + 1 < row.size()) {
        line.append(widths[c] - cell.text.size() + 2, ' ');
      }
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    absl::StrAppend(&out, line, "\n");
  }
  return out;
}

}  // namespace vix::inspect
