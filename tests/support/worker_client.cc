#include "worker_client.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iterator>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace vix::testing {
namespace {

void SkipSpaces(const std::string& s, size_t* i) {
  while (*i < s.size() && (s[*i] == ' ' || s[*i] == '\t')) ++*i;
}

// Reads a JSON string starting at s[*i] == '"'; handles the escapes our
// writers produce (\" \\ \n \t \uXXXX for ASCII).
bool ReadString(const std::string& s, size_t* i, std::string* out) {
  if (*i >= s.size() || s[*i] != '"') return false;
  for (++*i; *i < s.size(); ++*i) {
    char c = s[*i];
    if (c == '"') {
      ++*i;
      return true;
    }
    if (c != '\\') {
      out->push_back(c);
      continue;
    }
    if (++*i >= s.size()) return false;
    switch (s[*i]) {
      case 'n':
        out->push_back('\n');
        break;
      case 't':
        out->push_back('\t');
        break;
      case 'u': {
        if (*i + 4 >= s.size()) return false;
        out->push_back(static_cast<char>(
            std::strtol(s.substr(*i + 1, 4).c_str(), nullptr, 16)));
        *i += 4;
        break;
      }
      default:
        out->push_back(s[*i]);
    }
  }
  return false;
}

}  // namespace

std::optional<FlatJson> FlatJson::Parse(const std::string& text) {
  FlatJson json;
  json.text_ = text;
  size_t i = 0;
  SkipSpaces(text, &i);
  if (i >= text.size() || text[i++] != '{') return std::nullopt;
  SkipSpaces(text, &i);
  if (i < text.size() && text[i] == '}') return json;
  while (true) {
    std::string key;
    SkipSpaces(text, &i);
    if (!ReadString(text, &i, &key)) return std::nullopt;
    SkipSpaces(text, &i);
    if (i >= text.size() || text[i++] != ':') return std::nullopt;
    SkipSpaces(text, &i);
    Value value;
    if (i < text.size() && text[i] == '"') {
      value.quoted = true;
      if (!ReadString(text, &i, &value.text)) return std::nullopt;
    } else {
      while (i < text.size() && text[i] != ',' && text[i] != '}' &&
             text[i] != ' ') {
        if (text[i] == '{' || text[i] == '[') return std::nullopt;
        value.text.push_back(text[i++]);
      }
      if (value.text.empty()) return std::nullopt;
    }
    if (!json.values_.emplace(key, value).second) return std::nullopt;
    SkipSpaces(text, &i);
    if (i >= text.size()) return std::nullopt;
    if (text[i] == '}') {
      ++i;
      SkipSpaces(text, &i);
      return i == text.size() ? std::optional<FlatJson>(json) : std::nullopt;
    }
    if (text[i++] != ',') return std::nullopt;
  }
}

FlatJson FlatJson::Problem(const std::string& message) {
  FlatJson json;
  json.text_ = message;
  json.values_["error"] = {true, message};
  return json;
}

bool FlatJson::IsString(const std::string& key) const {
  auto it = values_.find(key);
  return it != values_.end() && it->second.quoted;
}

bool FlatJson::IsNull(const std::string& key) const {
  auto it = values_.find(key);
  return it != values_.end() && !it->second.quoted && it->second.text == "null";
}

std::string FlatJson::Str(const std::string& key) const {
  auto it = values_.find(key);
  return it != values_.end() && it->second.quoted ? it->second.text : "";
}

int64_t FlatJson::Int(const std::string& key) const {
  auto it = values_.find(key);
  int64_t value = 0;
  if (it == values_.end() || it->second.quoted ||
      !absl::SimpleAtoi(it->second.text, &value)) {
    return 0;
  }
  return value;
}

double FlatJson::Num(const std::string& key) const {
  auto it = values_.find(key);
  double value = 0;
  if (it == values_.end() || it->second.quoted ||
      !absl::SimpleAtod(it->second.text, &value)) {
    return 0;
  }
  return value;
}

bool FlatJson::Bool(const std::string& key) const {
  auto it = values_.find(key);
  return it != values_.end() && !it->second.quoted && it->second.text == "true";
}

std::string FlatJson::Text(const std::string& key) const {
  auto it = values_.find(key);
  return it != values_.end() ? it->second.text : "";
}

WorkerProcess::WorkerProcess(const std::string& segment,
                             const std::vector<std::string>& args)
    : child_([&] {
        std::vector<std::string> argv = {kTestWorker, "--segment", segment};
        argv.insert(argv.end(), args.begin(), args.end());
        return argv;
      }()) {}

bool WorkerProcess::Send(const std::string& command) {
  return child_.Write(command + "\n");
}

FlatJson WorkerProcess::Next(absl::Duration timeout) {
  std::string line;
  std::string problem;
  if (!child_.ReadLine(&line, timeout)) {
    problem = absl::StrCat("worker ", pid(), " gave no reply within ",
                           absl::FormatDuration(timeout), " (or exited)");
  } else if (std::optional<FlatJson> json = FlatJson::Parse(line)) {
    return *json;
  } else {
    problem = absl::StrCat("worker ", pid(), " replied with non-JSON: ", line);
  }
  return FlatJson::Problem(problem);
}

FlatJson WorkerProcess::Call(const std::string& command,
                             absl::Duration timeout) {
  if (!Send(command)) {
    return FlatJson::Problem(
        absl::StrCat("cannot write \"", command, "\" to worker ", pid()));
  }
  return Next(timeout);
}

absl::StatusOr<std::unique_ptr<shm::Segment>> OpenSegmentView(
    const std::string& name, bool writable) {
  shm::SegmentOptions options;
  options.name = name;
  if (!writable) return shm::Segment::OpenReadOnly(options);
  if (access(shm::SegmentPath(name).c_str(), F_OK) != 0) {
    return absl::NotFoundError(absl::StrCat("no segment ", name));
  }
  return shm::Segment::OpenOrCreate(options);
}

std::vector<std::string> ReadLines(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  const std::string text((std::istreambuf_iterator<char>(in)),
                         std::istreambuf_iterator<char>());
  std::vector<std::string> lines;
  size_t begin = 0;
  for (size_t end; (end = text.find('\n', begin)) != std::string::npos;
       begin = end + 1) {
    lines.push_back(text.substr(begin, end - begin));
  }
  return lines;  // a line still being written has no newline yet: left out
}

}  // namespace vix::testing
