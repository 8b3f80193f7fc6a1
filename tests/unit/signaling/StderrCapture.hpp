#pragma once
// Redirects file descriptor 2 into a temporary file while it lives, so a test can read the log
// lines the code under test wrote (signaling::Log writes straight to fd 2).
#include <unistd.h>

#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

namespace mcu::signaling {

class StderrCapture {
 public:
  StderrCapture() : file_(std::tmpfile()), saved_(::dup(STDERR_FILENO)) {
    ::dup2(::fileno(file_), STDERR_FILENO);
  }
  ~StderrCapture() {
    restore();
    std::fclose(file_);
  }
  StderrCapture(const StderrCapture&) = delete;
  StderrCapture& operator=(const StderrCapture&) = delete;

  // Everything written so far, one entry per line (without its newline).
  std::vector<std::string> lines() {
    std::string text;
    std::fflush(file_);
    std::rewind(file_);
    char buf[4096];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, file_)) > 0;) text.append(buf, n);
    std::fseek(file_, 0, SEEK_END);
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
  }

 private:
  void restore() {
    if (saved_ < 0) return;
    ::dup2(saved_, STDERR_FILENO);
    ::close(saved_);
    saved_ = -1;
  }
  std::FILE* file_;
  int saved_;
};

}  // namespace mcu::signaling
