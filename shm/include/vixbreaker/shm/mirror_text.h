// The mirror's last error text (MirrorHealth::error_text), guarded by the
// seqlock MirrorHealth::error_text_seq: odd while being written. One place
// for both sides, so the writer (the lease holder) and the readers (the
// inspector, the mirror's own snapshot) cannot drift apart.
#ifndef VIXBREAKER_SHM_MIRROR_TEXT_H_
#define VIXBREAKER_SHM_MIRROR_TEXT_H_

#include <string>

#include "absl/strings/string_view.h"
#include "vixbreaker/shm/layout.h"

namespace vix::shm {

// Single writer. Truncates to 127 bytes.
void WriteMirrorErrorText(MirrorHealth& health, absl::string_view text);

// False (and *text untouched) if a writer kept changing it for every try.
bool ReadMirrorErrorText(const MirrorHealth& health, std::string* text);

}  // namespace vix::shm

#endif  // VIXBREAKER_SHM_MIRROR_TEXT_H_
