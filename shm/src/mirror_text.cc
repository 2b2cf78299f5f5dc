#include "vixbreaker/shm/mirror_text.h"

#include <algorithm>
#include <cstring>

namespace vix::shm {
namespace {

constexpr size_t kWords = sizeof(MirrorHealth::error_text) / sizeof(AtomicU64);
constexpr int kReadAttempts = 1000;

}  // namespace

// Release stores and acquire loads rather than fences: GCC rejects
// atomic_thread_fence under ThreadSanitizer, and TSan does not model them.
void WriteMirrorErrorText(MirrorHealth& health, absl::string_view text) {
  char buf[kWords * 8] = {};
  std::memcpy(buf, text.data(), std::min(text.size(), sizeof(buf) - 1));
  const uint64_t seq = health.error_text_seq.load(std::memory_order_relaxed);
  health.error_text_seq.store(seq + 1, std::memory_order_relaxed);  // odd
  // A reader that sees any new word (acquire) also sees the odd sequence.
  for (size_t i = 0; i < kWords; ++i) {
    uint64_t word;
    std::memcpy(&word, buf + i * 8, 8);
    health.error_text[i].store(word, std::memory_order_release);
  }
  health.error_text_seq.store(seq + 2, std::memory_order_release);
}

bool ReadMirrorErrorText(const MirrorHealth& health, std::string* text) {
  for (int attempt = 0; attempt < kReadAttempts; ++attempt) {
    const uint64_t before =
        health.error_text_seq.load(std::memory_order_acquire);
    if (before & 1) continue;  // being written
    char buf[kWords * 8 + 1] = {};
    // Acquire loads keep the re-read of the sequence after the copy.
    for (size_t i = 0; i < kWords; ++i) {
      const uint64_t word =
          health.error_text[i].load(std::memory_order_acquire);
      std::memcpy(buf + i * 8, &word, 8);
    }
    if (health.error_text_seq.load(std::memory_order_relaxed) == before) {
      *text = std::string(buf, strnlen(buf, kWords * 8));
      return true;
    }
  }
  return false;
}

}  // namespace vix::shm
